import { linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LayerlabError } from '../util/errors.js';

/** The lock file of a run folder: whoever holds it is the folder's only writer. */
export const LOCK_FILE = '.layerlab-lock';

/**
 * A lock held by a process on another host is taken as stale once it is this old: its pid cannot be
 * checked from here, and no layerlab run goes this long without finishing or being restarted. A lock on
 * this host is stale as soon as its process is gone.
 */
export const FOREIGN_LOCK_STALE_MS = 7 * 24 * 3600 * 1000;

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  command: string[];
}

const held = new Set<string>();
let exitHooksInstalled = false;

function describe(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host}, started ${h.started}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.host === 'string' && typeof h.started === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Why the holder no longer counts (dead process, too old, unreadable), or undefined when it is live. */
function staleness(path: string, h: LockHolder | undefined, now: number): string | undefined {
  if (!h) {
    // Written whole by link(2), so an unreadable lock was damaged by hand; give it a minute anyway.
    let age = Infinity;
    try {
      age = now - statSync(path).mtimeMs;
    } catch {
      /* gone meanwhile */
    }
    return age > 60_000 ? 'unreadable lock file' : undefined;
  }
  if (h.host === hostname()) {
    // Re-entrant within a process: a library caller that failed half-way may open the folder again.
    if (h.pid === process.pid) return 'held by this process';
    return processAlive(h.pid) ? undefined : `process ${h.pid} is gone`;
  }
  const started = Date.parse(h.started);
  return Number.isFinite(started) && now - started > FOREIGN_LOCK_STALE_MS ? `older than ${FOREIGN_LOCK_STALE_MS / 86_400_000} days` : undefined;
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', releaseAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      releaseAll();
      // The handler replaced the default action; raise the signal again so the process still ends by it.
      process.kill(process.pid, signal);
    });
  }
}

function releaseAll(): void {
  for (const path of held) releasePath(path);
}

function releasePath(path: string): void {
  held.delete(path);
  // Only our own lock: a stale-lock takeover by another process must not be undone by us.
  const h = readHolder(path);
  if (h && h.pid === process.pid && h.host === hostname()) rmSync(path, { force: true });
}

/**
 * Moves a stale lock out of the way. It is renamed (atomic) before being removed, and the renamed file is
 * checked to still be the stale holder: if another process replaced it meanwhile with a live lock, that
 * lock is put back and its holder named.
 */
function takeOverStale(path: string, stale: LockHolder | undefined, why: string, dir: string): void {
  const grave = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, grave);
  } catch {
    return; // gone already: the next attempt links ours or meets the new holder
  }
  const moved = readHolder(grave);
  if (JSON.stringify(moved) !== JSON.stringify(stale)) {
    try {
      linkSync(grave, path);
    } finally {
      rmSync(grave, { force: true });
    }
    throw new LayerlabError(`another layerlab command is writing to this folder (${moved ? describe(moved) : 'unknown holder'})`, dir);
  }
  rmSync(grave, { force: true });
  if (stale?.pid !== process.pid) process.stderr.write(`layerlab: took over a stale lock in ${dir} (${why})\n`);
}

/**
 * Takes the lock of run folder `dir` (which must exist) or stops with a LayerlabError naming the holder.
 * The lock file is written whole under a temporary name and hard-linked into place, which fails if a lock
 * exists: two processes can never both succeed. A stale lock (see `staleness`) is removed and taken over.
 * Released by the returned function, and in any case when the process exits or is ended by a signal
 * (SIGKILL leaves the file; the next command finds its process gone and takes over).
 */
export function acquireRunLock(dir: string, command: string[] = process.argv.slice(2)): () => void {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(me) + '\n');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new LayerlabError(`cannot create the lock file (${(e as Error).message})`, dir);
      }
      const holder = readHolder(path);
      const why = staleness(path, holder, Date.now());
      if (why === undefined || attempt > 2)
        throw new LayerlabError(
          `another layerlab command is writing to this folder (${holder ? describe(holder) : 'lock file being written'}); wait for it to finish, or if it is gone remove ${path}`,
          dir,
        );
      takeOverStale(path, holder, why, dir);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  held.add(path);
  installExitHooks();
  return () => releasePath(path);
}
