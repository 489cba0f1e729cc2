import { accessSync, constants, existsSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { RUN_FILE } from '../results/run-files.js';
import { LOCK_FILE } from '../results/run-lock.js';
import { LayerlabError } from '../util/errors.js';
import { isWithin, realpathLoose } from '../util/safe-path.js';

/** What a command will write: a file or a folder, and the flag that named it. */
export interface OutTarget {
  path: string;
  kind: 'file' | 'dir';
  flag?: string;
}

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** The nearest ancestor of `p` that exists (following symlinks), or undefined. */
function nearestExisting(p: string): string | undefined {
  for (let d = dirname(resolve(p)); ; d = dirname(d)) {
    if (existsSync(d)) return d;
    if (dirname(d) === d) return undefined;
  }
}

function checkValue(t: OutTarget): void {
  const flag = t.flag ?? '--out';
  if (t.path.trim() === '') throw new LayerlabError(`${flag} is empty`);
  if (t.path.startsWith('-')) throw new LayerlabError(`${flag} '${t.path}' starts with '-': probably a missing value (for such a name write ./${t.path})`);
}

function checkShape(t: OutTarget): void {
  const flag = t.flag ?? '--out';
  // Writing through a symlinked file would change the file it points to, somewhere else.
  if (t.kind === 'file' && lexists(t.path) && lstatSync(t.path).isSymbolicLink())
    throw new LayerlabError(`${flag} ${t.path} is a symlink (to ${realpathLoose(t.path)}); give the path of the file itself`);
  if (lexists(t.path) && !existsSync(t.path)) throw new LayerlabError(`${flag} ${t.path} is a dangling symlink; remove it or choose another path`);
  if (existsSync(t.path)) {
    const st = statSync(t.path);
    if (t.kind === 'file' && st.isDirectory()) throw new LayerlabError(`${flag} ${t.path} is a folder; give a file path`);
    if (t.kind === 'file' && !st.isFile()) throw new LayerlabError(`${flag} ${t.path} is not a regular file (a device or pipe such as /dev/null); give a file path`);
    if (t.kind === 'dir' && !st.isDirectory()) throw new LayerlabError(`${flag} ${t.path} is ${st.isFile() ? 'a file' : 'not a folder (a device or pipe)'}; give a folder path`);
    // A folder output is a run folder: only an empty one or one layerlab wrote may be taken over. One
    // holding a lock is layerlab's even before its run file is in place (a writer between taking the lock
    // and renaming the run file over its temporary): the lock check names that writer.
    const foreign = t.kind === 'dir' && !existsSync(join(t.path, RUN_FILE)) && !existsSync(join(t.path, LOCK_FILE)) && readdirSync(t.path).some((f) => !f.startsWith(LOCK_FILE));
    if (foreign) throw new LayerlabError(`${flag} ${t.path} exists and was not written by layerlab; choose an empty or new folder`);
    const writable = t.kind === 'dir' ? t.path : dirname(resolve(t.path));
    try {
      accessSync(writable, constants.W_OK);
      if (t.kind === 'file') accessSync(t.path, constants.W_OK);
    } catch {
      throw new LayerlabError(`${flag} ${t.path} is not writable (permission denied)`);
    }
    return;
  }
  // A file's folder must exist; a run folder is created with its missing parents (runs/<model> is
  // the usual layout), below the nearest existing ancestor, which must be a writable folder.
  const parent = dirname(resolve(t.path));
  const anchor = nearestExisting(t.path);
  if (anchor && !statSync(anchor).isDirectory()) throw new LayerlabError(`${flag} ${t.path}: ${anchor} is not a folder`);
  if (t.kind === 'file' && !existsSync(parent)) throw new LayerlabError(`${flag} ${t.path}: folder ${parent} does not exist`);
  const base = anchor ?? parent;
  try {
    accessSync(base, constants.W_OK);
  } catch {
    throw new LayerlabError(`${flag} ${t.path}: folder ${base} is not writable (permission denied)`);
  }
}

/**
 * Refuses an output that is, contains or sits inside one of the command's inputs, comparing real paths
 * (symlinks resolved), so `forward --out MODEL/model.safetensors` cannot replace the checkpoint and
 * `sweep --out DATA_DIR` cannot delete the corpus.
 */
export function checkApart(targets: OutTarget[], inputs: Array<string | undefined>): void {
  const real = inputs.filter((i): i is string => i !== undefined && existsSync(i)).map((input) => {
    const r = realpathSync(input);
    return { input, real: r, what: statSync(r).isDirectory() ? 'input folder' : 'input file' };
  });
  for (const t of targets) {
    const out = realpathLoose(t.path);
    const flag = t.flag ?? '--out';
    // The most specific relation first: "is the model file" says more than "is inside the model folder".
    const same = real.find((i) => i.real === out);
    if (same) throw new LayerlabError(`${flag} ${t.path} is the ${same.what} ${same.input}; outputs never overwrite inputs`);
    const inside = real.find((i) => isWithin(out, i.real));
    if (inside) throw new LayerlabError(`${flag} ${t.path} contains the ${inside.what} ${inside.input}; outputs never overwrite inputs`);
    const container = real.find((i) => isWithin(i.real, out));
    if (container) {
      const clobber = existsSync(t.path) ? ' and would overwrite what is there' : '';
      throw new LayerlabError(`${flag} ${t.path} is inside the ${container.what} ${container.input}${clobber}; write outputs elsewhere`);
    }
  }
}

/**
 * The one check every command runs on its outputs before doing any work: each target has the right
 * shape (a folder where a folder is expected, a creatable regular file where a file is expected, never
 * /dev/null), its parent exists and is writable, and it is apart from every input.
 */
export function checkOutputs(targets: OutTarget[], inputs: Array<string | undefined>): void {
  for (const t of targets) checkValue(t);
  checkApart(targets, inputs);
  for (const t of targets) checkShape(t);
}

/** The report's outputs: the HTML file and, unless --no-static, the `<name>-figures/` folder beside it. */
export function reportTargets(out: string, staticFiles: boolean): OutTarget[] {
  const html = resolve(out);
  const figures = join(dirname(html), `${basename(html, extname(html))}-figures`);
  return [{ path: out, kind: 'file' }, ...(staticFiles ? [{ path: figures, kind: 'dir' as const, flag: '--out (figures folder)' }] : [])];
}
