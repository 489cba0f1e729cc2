/** A one-line warning on stderr, in the CLI's format: for inputs a user may mean, but should know about. */
export function warn(message: string): void {
  process.stderr.write(`layerlab: warning: ${message}\n`);
}
