import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { LayerlabError } from '../util/errors.js';

/** Writes a file atomically (temp file + rename): a kill never leaves a half-written result. */
export function writeTextAtomic(path: string, text: string): void {
  writeBytesAtomic(path, text);
}

export function writeBytesAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Writes JSON atomically; non-finite numbers become null. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

export function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new LayerlabError(`cannot read result file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
}
