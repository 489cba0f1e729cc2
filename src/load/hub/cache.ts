import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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

export function blobPath(repoDir: string, etag: string): string {
  return join(repoDir, 'blobs', etag);
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
  const target = join(snapshotDir(repoDir, commit), file);
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
  return !!shards && shards.every((s) => existsSync(join(dir, s)));
}

/** The cached snapshot for a revision when it is complete, so no request is needed. */
export function cachedSnapshot(repoDir: string, revision: string): { commit: string; dir: string } | undefined {
  const commit = readRef(repoDir, revision);
  if (!commit) return undefined;
  const dir = snapshotDir(repoDir, commit);
  return snapshotIsComplete(dir) ? { commit, dir } : undefined;
}
