import { LayerlabError } from '../util/errors.js';

/**
 * Wraps a command action: a LayerlabError (bad input) prints "layerlab: <message>" and exits 1 with no
 * stack trace; anything else is a bug and is shown in full.
 */
export function runCommand<A extends unknown[]>(action: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (e) {
      if (e instanceof LayerlabError) {
        process.stderr.write(`layerlab: ${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
  };
}

/** Parses "0,2,1,3" (also "" for the empty plan) into block indices. */
export function parsePlanList(text: string, flag = '--plan'): number[] {
  if (text.trim() === '' || text.trim() === '[]') return [];
  return text.split(',').map((s) => {
    const v = Number(s.trim());
    if (!Number.isInteger(v) || v < 0) throw new LayerlabError(`${flag} must be comma-separated block indices, got '${text}'`);
    return v;
  });
}

export function parsePositiveInt(text: string, flag: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v <= 0) throw new LayerlabError(`${flag} must be a positive integer, got '${text}'`);
  return v;
}
