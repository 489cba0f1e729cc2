import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/..., sources live in test/...). */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

/** The read-only ../shared folder beside the checkout, if present. */
export const sharedRoot = resolve(repoRoot, '..', 'shared');

/**
 * Path of an asset under ../shared, or undefined when missing. Tests pass the result to `t.skip` with
 * a message naming what is missing (see `sharedOrSkip`).
 */
export function sharedPath(...parts: string[]): string | undefined {
  const p = join(sharedRoot, ...parts);
  return existsSync(p) ? p : undefined;
}

/** Options for node:test's `test(name, opts, fn)`: skipped, with the missing path named, when absent. */
export function needsShared(...parts: string[]): { skip?: string } {
  return sharedPath(...parts) ? {} : { skip: `missing ../shared/${parts.join('/')} (read-only test assets beside the checkout)` };
}

/** Fixture files copied into the repository (small golden models). */
export function fixturePath(...parts: string[]): string {
  return join(repoRoot, 'test', 'fixtures', ...parts);
}
