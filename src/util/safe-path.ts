import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LayerlabError } from './errors.js';

/**
 * The real path of `p` even when it does not exist yet: the longest existing ancestor is resolved through
 * its symlinks and the missing rest is appended. A path that will be created can so be compared with
 * existing ones.
 */
export function realpathLoose(p: string): string {
  let head = resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(head);
      return rest.length ? join(real, ...rest.reverse()) : real;
    } catch {
      const parent = dirname(head);
      if (parent === head) return resolve(p);
      rest.push(basename(head));
      head = parent;
    }
  }
}

/** Whether `inner` is `outer` itself or lies below it (both already real, absolute paths). */
export function isWithin(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * `entry` (a relative path read from a file such as `.layerlab-run.json`, a shard index or a hub cache
 * entry) joined to `root`, only when it stays strictly inside `root` both as written and after symlinks;
 * anything else is a LayerlabError naming `source`, the file the path came from. Use the returned path,
 * never the raw entry, for every read, write or delete.
 */
export function resolveInside(root: string, entry: unknown, what: string, source: string, roots: string[] = [root]): string {
  if (typeof entry !== 'string' || entry === '' || entry.includes('\0') || isAbsolute(entry))
    throw new LayerlabError(`${what} ${JSON.stringify(entry)} is not a relative path inside ${root}`, source);
  const joined = resolve(root, entry);
  const lexicalOk = isWithin(resolve(root), joined) && joined !== resolve(root);
  const real = realpathLoose(joined);
  const realOk = real !== realpathLoose(root) && roots.some((r) => isWithin(realpathLoose(r), real));
  if (!lexicalOk || !realOk)
    throw new LayerlabError(`${what} '${entry}' resolves outside ${root}${lexicalOk ? ` (through a symlink, to ${real})` : ''}; refusing to use it`, source);
  return join(root, entry);
}
