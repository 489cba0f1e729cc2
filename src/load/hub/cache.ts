import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { realpathLoose, resolveInside } from '../../util/safe-path.js';
import { isCommitHash } from './spec.js';

/*
 * The cache layout of Python's huggingface_hub, so both tools share downloads:
 *   {root}/models--{org}--{name}/refs/{revision}          commit hash the revision pointed to
 *   {root}/models--{org}--{name}/blobs/{etag}             file contents, named by ETag (sha256 for LFS)
 *   {root}/models--{org}--{name}/snapshots/{commit}/{file} symlink to ../../blobs/{etag}
 */

export function repoCacheDir(root: string, repoId: string): string {
  return join(root, `models--${repoId.replace('/', '--')}`);
}

/** The blob of an ETag; an ETag (sent by the server) that would name a path outside blobs/ is refused. */
export function blobPath(repoDir: string, etag: string): string {
  return resolveInside(join(repoDir, 'blobs'), etag, 'blob name (ETag)', repoDir, [repoDir]);
}

/** The cache entry (models--org--name) a snapshot folder belongs to, as a list of zero or one root. */
export function cacheEntryRootOf(dir: string): string[] {
  const real = realpathLoose(dir);
  const entry = dirname(dirname(real));
  return basename(dirname(real)) === 'snapshots' && basename(entry).startsWith('models--') ? [entry] : [];
}

export function snapshotDir(repoDir: string, commit: string): string {
  return join(repoDir, 'snapshots', commit);
}

/** The commit a revision points to in the cache: the revision itself when it is a hash. */
export function readRef(repoDir: string, revision: string): string | undefined {
  if (isCommitHash(revision)) return revision;
  const ref = join(repoDir, 'refs', revision);
  if (!existsSync(ref)) return undefined;
  const commit = readFileSync(ref, 'utf8').trim();
  return isCommitHash(commit) ? commit : undefined;
}

export function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const ref = join(repoDir, 'refs', revision);
  mkdirSync(dirname(ref), { recursive: true });
  // written whole then renamed, so a reader never sees half a hash
  writeFileSync(`${ref}.tmp`, commit);
  renameSync(`${ref}.tmp`, ref);
}

/** Points snapshots/{commit}/{file} at the blob; copies where symlinks are not allowed (Windows). */
export function linkSnapshotFile(repoDir: string, commit: string, file: string, etag: string): string {
  const target = resolveInside(snapshotDir(repoDir, commit), file, 'file', repoDir, [repoDir]);
  mkdirSync(dirname(target), { recursive: true });
  const blob = blobPath(repoDir, etag);
  rmSync(target, { force: true });
  try {
    symlinkSync(relative(dirname(target), blob), target);
  } catch {
    copyFileSync(blob, target);
  }
  return target;
}

/** Weight files a model folder needs: model.safetensors, or the index and every shard it lists. */
export function shardsOfIndex(indexPath: string): string[] | undefined {
  try {
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map?: Record<string, unknown> };
    if (!index.weight_map || typeof index.weight_map !== 'object') return undefined;
    const shards = [...new Set(Object.values(index.weight_map))];
    return shards.every((s) => typeof s === 'string') ? (shards as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a snapshot has what loading needs; existsSync follows the symlinks, so dangling ones fail. */
export function snapshotIsComplete(dir: string): boolean {
  if (!existsSync(join(dir, 'config.json'))) return false;
  if (existsSync(join(dir, 'model.safetensors'))) return true;
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(index)) return false;
  const shards = shardsOfIndex(index);
  return !!shards && shards.every((s) => existsSync(resolveInside(dir, s, 'shard', index, [dir, ...cacheEntryRootOf(dir)])));
}

/** The cached snapshot for a revision when it is complete, so no request is needed. */
export function cachedSnapshot(repoDir: string, revision: string): { commit: string; dir: string } | undefined {
  const commit = readRef(repoDir, revision);
  if (!commit) return undefined;
  const dir = snapshotDir(repoDir, commit);
  return snapshotIsComplete(dir) ? { commit, dir } : undefined;
}
