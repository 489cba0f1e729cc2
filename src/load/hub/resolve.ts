import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LayerlabError } from '../../util/errors.js';
import { blobPath, cachedSnapshot, linkSnapshotFile, repoCacheDir, shardsOfIndex, snapshotDir, writeRef } from './cache.js';
import { downloadBlob, fileMetadata, resolveUrl, type FileMeta } from './download.js';
import { HttpStatusError, NetworkError } from './http.js';
import { terminalProgress } from './progress.js';
import { hubContext, type HubContext, type HubOptions } from './settings.js';
import { isCommitHash, parseHubSpec } from './spec.js';
import { MODEL_FIX } from '../../util/fix-hints.js';

export type { HubOptions } from './settings.js';

export interface ResolvedModel {
  /** folder with config.json and the safetensors weights */
  dir: string;
  /** set when the model came from the Hub (cache or download) */
  modelId?: string;
  revision?: string;
  commit?: string;
}

/** Small files a model folder may have; the Hub answers 404 for the ones a repository lacks. */
const OPTIONAL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'special_tokens_map.json'];

const LOCAL_HINT = 'or point --model at a local folder that holds config.json and the safetensors weights';

/** Everything one resolution needs to download files and explain failures. */
interface Job {
  ctx: HubContext;
  repoId: string;
  revision: string;
  repoDir: string;
}

function notCachedError(job: Job, why: string): LayerlabError {
  return new LayerlabError(`${job.repoId}@${job.revision} is not in the local Hugging Face cache at ${job.repoDir}, and ${why}; ${LOCAL_HINT}`);
}

/** Turns a failed request into a message that says what the user can do about it. */
function explain(job: Job, e: unknown, file: string): unknown {
  const name = `${job.repoId}@${job.revision}`;
  if (e instanceof NetworkError) {
    if (e.unreachable) return notCachedError(job, `the Hub at ${job.ctx.endpoint} cannot be reached (${e.code}; no network?)`);
    return new LayerlabError(`downloading ${file} of ${name} failed after ${job.ctx.retries + 1} tries (${e.message}); run again to resume`);
  }
  if (e instanceof HttpStatusError) {
    if (e.status === 401 && e.errorCode === 'RepoNotFound') {
      // the Hub answers so for private repositories too, to not reveal that they exist
      return new LayerlabError(`model ${job.repoId} not found on ${job.ctx.endpoint}; if it is private, set the HF_TOKEN environment variable to an access token that may read it`);
    }
    if (e.status === 401 || e.status === 403) {
      const token = job.ctx.token
        ? 'the token in HF_TOKEN (or the huggingface-cli login token) does not give access to it; accept its terms on the model page with that account'
        : 'set the HF_TOKEN environment variable to a Hugging Face access token of an account that may read it';
      return new LayerlabError(`${name} is gated or private (HTTP ${e.status} from ${job.ctx.endpoint}): ${token}`);
    }
    if (e.status === 404) {
      if (e.errorCode === 'EntryNotFound') {
        const why = file === 'config.json' ? '; layerlab needs a transformers-style repository (config.json + safetensors)' : '';
        return new LayerlabError(`${name} has no file ${file}${why}`);
      }
      if (e.errorCode === 'RevisionNotFound') return new LayerlabError(`revision '${job.revision}' not found in ${job.repoId} on ${job.ctx.endpoint}`);
      return new LayerlabError(`model ${job.repoId} or its revision '${job.revision}' not found on ${job.ctx.endpoint} (HTTP 404 for ${file})`);
    }
    return new LayerlabError(`the Hub answered HTTP ${e.status} for ${file} of ${name}`, e.url);
  }
  return e;
}

/** A 404 for a file of a repository that exists: the file is just not there. */
function isMissingFile(e: unknown): boolean {
  return e instanceof HttpStatusError && e.status === 404 && e.errorCode !== 'RepoNotFound' && e.errorCode !== 'RevisionNotFound';
}

/** Names from a shard index become paths under the snapshot: no absolute paths, no '..'. */
function checkRepoPath(job: Job, file: string): void {
  if (!file || file.startsWith('/') || file.includes('\\') || file.split('/').some((p) => p === '..' || p === '.' || p === '')) {
    throw new LayerlabError(`model.safetensors.index.json of ${job.repoId} lists an unsafe shard name '${file}'`);
  }
}

/** Gets one file into snapshots/{commit}/ (downloading its blob unless cached) and returns its path. */
async function fetchFile(job: Job, commit: string, file: string, meta?: FileMeta): Promise<string> {
  checkRepoPath(job, file);
  const target = join(snapshotDir(job.repoDir, commit), file);
  if (existsSync(target)) return target;
  try {
    const m = meta ?? (await fileMetadata(job.ctx, job.repoId, commit, file));
    await downloadBlob(job.ctx, m, blobPath(job.repoDir, m.etag));
    return linkSnapshotFile(job.repoDir, commit, file, m.etag);
  } catch (e) {
    throw explain(job, e, file);
  }
}

/** Like fetchFile, but undefined when the repository has no such file. */
async function fetchOptional(job: Job, commit: string, file: string): Promise<string | undefined> {
  const target = join(snapshotDir(job.repoDir, commit), file);
  if (existsSync(target)) return target;
  let meta: FileMeta;
  try {
    meta = await fileMetadata(job.ctx, job.repoId, commit, file);
  } catch (e) {
    if (isMissingFile(e)) return undefined;
    throw explain(job, e, file);
  }
  return fetchFile(job, commit, file, meta);
}

async function download(job: Job): Promise<ResolvedModel> {
  // config.json is asked for at the revision; everything after at the commit it resolved to, so a
  // push during the download cannot mix two versions of the model.
  let configMeta: FileMeta;
  try {
    configMeta = await fileMetadata(job.ctx, job.repoId, job.revision, 'config.json');
  } catch (e) {
    throw explain(job, e, 'config.json');
  }
  const commit = configMeta.commit ?? (isCommitHash(job.revision) ? job.revision : undefined);
  if (!commit || !isCommitHash(commit)) {
    throw new LayerlabError(`${job.ctx.endpoint} sent no commit hash (X-Repo-Commit) for ${job.repoId}@${job.revision}; is it a Hugging Face Hub?`);
  }
  if (configMeta.downloadUrl.href === resolveUrl(job.ctx.endpoint, job.repoId, job.revision, 'config.json').href) {
    configMeta = { ...configMeta, downloadUrl: resolveUrl(job.ctx.endpoint, job.repoId, commit, 'config.json') };
  }
  const dir = snapshotDir(job.repoDir, commit);
  await fetchFile(job, commit, 'config.json', configMeta);
  for (const file of OPTIONAL_FILES) await fetchOptional(job, commit, file);

  if (!(await fetchOptional(job, commit, 'model.safetensors'))) {
    const index = await fetchOptional(job, commit, 'model.safetensors.index.json');
    if (!index) {
      throw new LayerlabError(`no safetensors weights in ${job.repoId}@${job.revision} (neither model.safetensors nor model.safetensors.index.json); layerlab reads safetensors only`);
    }
    const shards = shardsOfIndex(index);
    if (!shards) throw new LayerlabError(`model.safetensors.index.json of ${job.repoId}@${job.revision} has no usable weight_map`, index);
    for (const shard of shards) await fetchFile(job, commit, shard);
  }
  writeRef(job.repoDir, job.revision, commit);
  return { dir, modelId: job.repoId, revision: job.revision, commit };
}

/**
 * Where to load a model from: `spec` is a local folder, or a Hub id `ORG/NAME[@REVISION]` that is
 * looked up in the huggingface_hub cache and downloaded into it when missing.
 */
export async function resolveModel(spec: string, opts: HubOptions = {}): Promise<ResolvedModel> {
  if (existsSync(spec)) {
    if (!statSync(spec).isDirectory()) throw new LayerlabError('expected a model folder (with config.json and safetensors weights), got a file', spec);
    return { dir: spec };
  }
  return resolveHubModel(spec, opts);
}

/**
 * A Hub id `ORG/NAME[@REVISION]` through the huggingface_hub cache (downloaded into it when missing),
 * never a local folder of that name (queue workers read nothing outside their cache and --models).
 */
export async function resolveHubModel(spec: string, opts: HubOptions = {}): Promise<ResolvedModel> {
  const parsed = parseHubSpec(spec);
  if (!parsed) {
    throw new LayerlabError(`no such folder, and '${spec}' is not a Hugging Face Hub id (ORG/NAME or ORG/NAME@REVISION)${MODEL_FIX}`, spec);
  }
  const ctx = hubContext({ ...opts, onProgress: opts.onProgress ?? terminalProgress() });
  const job: Job = { ctx, ...parsed, repoDir: repoCacheDir(ctx.cacheRoot, parsed.repoId) };

  const cached = cachedSnapshot(job.repoDir, job.revision);
  if (cached) return { dir: cached.dir, modelId: job.repoId, revision: job.revision, commit: cached.commit };
  if (ctx.offline) {
    throw notCachedError(job, `offline mode is on (${opts.offline ? 'offline option' : 'HF_HUB_OFFLINE'}), so it cannot be downloaded`);
  }
  return download(job);
}
