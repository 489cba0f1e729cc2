import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LayerlabError } from '../util/errors.js';
import { readJson, writeBytesAtomic, writeJsonAtomic } from './run-dir.js';
import { readResult, RUN_FILE, STATE_DIR, writeResultFile } from './run-files.js';
import type { RunFile } from './schema.js';

/**
 * A run folder that survives being killed. `key` identifies the work (model, data hash, options): the
 * same command on the same folder resumes an unfinished run; anything else (or a finished run) starts
 * over, since `--out` overwrites. State is saved atomically after each unit of work, so at most the unit
 * in progress is redone, and results are written once complete.
 */
export class ResumableRun {
  private run: RunFile;

  private constructor(readonly dir: string, run: RunFile, readonly resumed: boolean, readonly finishedBefore = false) {
    this.run = run;
  }

  /**
   * `reuseFinished`: a finished run of the same key is kept as it is (`finishedBefore` is true and the
   * caller skips the work) — used by `layerlab paper` when it resumes, so finished parts are not redone.
   */
  static open(dir: string, key: unknown, opts: { fresh?: boolean; reuseFinished?: boolean } = {}): ResumableRun {
    const keyText = JSON.stringify(key);
    if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, RUN_FILE)))
      throw new LayerlabError('output folder exists and was not written by layerlab; choose an empty or new folder', dir);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, RUN_FILE);
    if (existsSync(path)) {
      const prev = readResult(path, RUN_FILE);
      if (!opts.fresh && prev.key === keyText) {
        if (!prev.finished) return new ResumableRun(dir, prev, true);
        if (opts.reuseFinished) return new ResumableRun(dir, prev, true, true);
      }
      for (const f of prev.files) rmSync(join(dir, f), { force: true, recursive: true });
      rmSync(join(dir, STATE_DIR), { force: true, recursive: true });
    }
    const run: RunFile = { key: keyText, finished: false, files: [] };
    writeResultFile(path, run);
    return new ResumableRun(dir, run, false);
  }

  private save(): void {
    writeResultFile(join(this.dir, RUN_FILE), this.run);
  }

  /** Partial state of one piece of work (accumulators, done counters), or undefined. */
  loadState<T>(name: string): T | undefined {
    const p = join(this.dir, STATE_DIR, `${name}.json`);
    return existsSync(p) ? readJson<T>(p) : undefined;
  }

  saveState(name: string, value: unknown): void {
    mkdirSync(join(this.dir, STATE_DIR), { recursive: true });
    writeJsonAtomic(join(this.dir, STATE_DIR, `${name}.json`), value);
  }

  /** Binary partial state (encoded accumulator states of a job), or undefined. */
  loadStateBytes(name: string): Uint8Array | undefined {
    const p = join(this.dir, STATE_DIR, `${name}.bin`);
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined;
  }

  saveStateBytes(name: string, bytes: Uint8Array): void {
    mkdirSync(join(this.dir, STATE_DIR), { recursive: true });
    writeBytesAtomic(join(this.dir, STATE_DIR, `${name}.bin`), bytes);
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
  }
}
