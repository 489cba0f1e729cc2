import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LayerlabError } from '../util/errors.js';
import { resolveInside } from '../util/safe-path.js';
import { readJson, writeBytesAtomic, writeJsonAtomic } from './run-dir.js';
import { acquireRunLock, LOCK_FILE } from './run-lock.js';
import { readResult, RUN_FILE, STATE_DIR, writeResultFile } from './run-files.js';
import type { RunFile } from './schema.js';

/** Saved partial state, stamped with the key of the run that computed it. */
interface StateFile {
  key: string;
  state: unknown;
}

/**
 * A run folder that survives being killed. `key` identifies the work (model digest, data hash, every
 * option): the same command on the same folder resumes an unfinished run; anything else (or a finished
 * run) starts over, since `--out` overwrites. State is saved atomically after each unit of work, so at
 * most the unit in progress is redone, and results are written once complete.
 *
 * Safety: the folder has one writer at a time (a lock file, see run-lock.ts); a path listed in the run
 * file is only ever removed when it resolves inside the folder, symlinks included; saved state carries
 * the key and is never loaded into a run of another key.
 */
export class ResumableRun {
  private run: RunFile;
  private releaseLock: (() => void) | undefined;

  private constructor(readonly dir: string, run: RunFile, readonly resumed: boolean, release: () => void, readonly finishedBefore = false) {
    this.run = run;
    this.releaseLock = release;
  }

  /**
   * `reuseFinished`: a finished run of the same key is kept as it is (`finishedBefore` is true and the
   * caller skips the work) — used by `layerlab paper` when it resumes, so finished parts are not redone.
   * The folder's lock is held until `finish()`, `close()` or the end of the process.
   */
  static open(dir: string, key: unknown, opts: { fresh?: boolean; reuseFinished?: boolean } = {}): ResumableRun {
    const keyText = JSON.stringify(key);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new LayerlabError('output exists and is not a folder; choose a new or empty folder', dir);
    // A folder holding a lock is layerlab's even before its run file exists (see src/cli/out-path.ts).
    const foreign = existsSync(dir) && readdirSync(dir).some((f) => f !== LOCK_FILE && !f.startsWith(`${LOCK_FILE}.`)) && !existsSync(join(dir, RUN_FILE)) && !existsSync(join(dir, LOCK_FILE));
    if (foreign) throw new LayerlabError('output folder exists and was not written by layerlab; choose an empty or new folder', dir);
    mkdirSync(dir, { recursive: true });
    const release = acquireRunLock(dir);
    try {
      const path = join(dir, RUN_FILE);
      if (existsSync(path)) {
        const prev = readResult(path, RUN_FILE);
        if (!opts.fresh && prev.key === keyText) {
          if (!prev.finished) return new ResumableRun(dir, prev, true, release);
          if (opts.reuseFinished) return new ResumableRun(dir, prev, true, release, true);
        }
        // Every listed path is checked before anything is removed: one bad entry stops the run untouched.
        const victims = prev.files.map((f) => resolveInside(dir, f, 'listed file', path));
        for (const v of victims) rmSync(v, { force: true, recursive: true });
        rmSync(join(dir, STATE_DIR), { force: true, recursive: true });
      }
      const run: RunFile = { key: keyText, finished: false, files: [] };
      writeResultFile(path, run);
      return new ResumableRun(dir, run, false, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  private save(): void {
    writeResultFile(join(this.dir, RUN_FILE), this.run);
  }

  /**
   * Partial state of one piece of work (accumulators, done counters), or undefined. State saved under
   * another key (another data file, model or option set) is never returned: it is reported and ignored.
   */
  loadState<T>(name: string): T | undefined {
    const p = join(this.dir, STATE_DIR, `${name}.json`);
    if (!existsSync(p)) return undefined;
    const saved = readJson<Partial<StateFile>>(p);
    if (!saved || typeof saved !== 'object' || saved.key !== this.run.key) {
      process.stderr.write(`layerlab: ignoring ${p}: saved by a run with other data, model or options; starting this part over\n`);
      return undefined;
    }
    return saved.state as T;
  }

  saveState(name: string, value: unknown): void {
    mkdirSync(join(this.dir, STATE_DIR), { recursive: true });
    writeJsonAtomic(join(this.dir, STATE_DIR, `${name}.json`), { key: this.run.key, state: value } satisfies StateFile);
  }

  /**
   * Binary partial state (encoded accumulator states of a job), or undefined. The file starts with the
   * run's key (u32 length + UTF-8), so state of another key is never decoded into this run.
   */
  loadStateBytes(name: string): Uint8Array | undefined {
    const p = join(this.dir, STATE_DIR, `${name}.bin`);
    if (!existsSync(p)) return undefined;
    const bytes = new Uint8Array(readFileSync(p));
    const keyLen = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) : -1;
    const key = keyLen >= 0 && 4 + keyLen <= bytes.length ? Buffer.from(bytes.subarray(4, 4 + keyLen)).toString('utf8') : undefined;
    if (key !== this.run.key) {
      process.stderr.write(`layerlab: ignoring ${p}: saved by a run with other data, model or options; starting this part over\n`);
      return undefined;
    }
    return bytes.subarray(4 + keyLen);
  }

  saveStateBytes(name: string, bytes: Uint8Array): void {
    mkdirSync(join(this.dir, STATE_DIR), { recursive: true });
    const key = Buffer.from(this.run.key, 'utf8');
    const out = new Uint8Array(4 + key.length + bytes.length);
    new DataView(out.buffer).setUint32(0, key.length, true);
    out.set(key, 4);
    out.set(bytes, 4 + key.length);
    writeBytesAtomic(join(this.dir, STATE_DIR, `${name}.bin`), out);
  }

  /** Writes a result file into the folder (atomically, through its validator) and records it as ours. */
  writeResult(file: string, value: unknown): void {
    writeResultFile(join(this.dir, file), value);
    this.track(file);
  }

  /** Records a file written by other means (CSV, images) as belonging to the run. */
  track(file: string): void {
    if (!this.run.files.includes(file)) {
      this.run.files.push(file);
      this.save();
    }
  }

  hasResult(file: string): boolean {
    return this.run.files.includes(file) && existsSync(join(this.dir, file));
  }

  finish(): void {
    this.run.finished = true;
    this.save();
    rmSync(join(this.dir, STATE_DIR), { force: true, recursive: true });
    this.close();
  }

  /** Releases the folder's lock; nothing may be written through this object afterwards. */
  close(): void {
    this.releaseLock?.();
    this.releaseLock = undefined;
  }
}
