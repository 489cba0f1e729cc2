/**
 * An error caused by the user's input (a file, a flag, a model). The CLI prints its message alone, with
 * no stack trace; anything else is a bug and is printed in full.
 */
export class LayerlabError extends Error {
  constructor(message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'LayerlabError';
  }
}
