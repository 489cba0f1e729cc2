import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LayerlabError } from '../../util/errors.js';
import { header, HttpStatusError, isTransient, NetworkError, request } from './http.js';
import type { HubContext } from './settings.js';

/** What the Hub says about one file before it is downloaded. */
export interface FileMeta {
  file: string;
  /** commit the revision resolved to (X-Repo-Commit) */
  commit?: string;
  /** blob id: the sha256 for LFS files, the git blob sha1 otherwise */
  etag: string;
  size?: number;
  /** where the bytes are: the resolve URL itself, or the CDN it redirects to */
  downloadUrl: URL;
}

export function resolveUrl(endpoint: string, repoId: string, revision: string, file: string): URL {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return new URL(`${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${path}`);
}

/** huggingface_hub's normalisation: drop a weak-validator prefix and the quotes. */
function normalizeEtag(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const etag = raw.replace(/^W\//, '').replace(/^"|"$/g, '');
  // it becomes a file name under blobs/, so nothing that could leave that folder
  return /^[\w.-]+$/.test(etag) && !etag.startsWith('.') ? etag : undefined;
}

function isSha256(etag: string): boolean {
  return /^[0-9a-f]{64}$/.test(etag);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` again after cuts and server errors, waiting longer each time; other errors pass through. */
export async function withRetries<T>(ctx: HubContext, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || attempt >= ctx.retries) throw e;
      await sleep(ctx.retryDelayMs * 2 ** attempt);
    }
  }
}

/**
 * HEAD of the resolve URL. The Hub answers LFS files with a redirect to its CDN whose headers carry
 * the commit, the sha256 and the size, so that redirect is kept rather than followed; redirects
 * without them (a renamed repository) are followed.
 */
export async function fileMetadata(ctx: HubContext, repoId: string, revision: string, file: string): Promise<FileMeta> {
  const url = resolveUrl(ctx.endpoint, repoId, revision, file);
  return withRetries(ctx, async () => {
    const { res, url: finalUrl } = await request(url, {
      method: 'HEAD',
      token: ctx.token,
      tokenOrigin: new URL(ctx.endpoint).origin,
      timeoutMs: ctx.timeoutMs,
      keepRedirect: (r) => header(r.headers, 'x-repo-commit') !== undefined || header(r.headers, 'x-linked-etag') !== undefined,
    });
    res.resume();
    const status = res.statusCode ?? 0;
    if (status >= 400) throw new HttpStatusError(status, url.href, header(res.headers, 'x-error-code'));
    const h = res.headers;
    const etag = normalizeEtag(header(h, 'x-linked-etag') ?? header(h, 'etag'));
    if (!etag) throw new LayerlabError(`the server sent no usable ETag for ${file}; is ${ctx.endpoint} a Hugging Face Hub?`, url.href);
    const redirected = status >= 300 && status < 400;
    const sizeText = header(h, 'x-linked-size') ?? (redirected ? undefined : header(h, 'content-length'));
    const size = sizeText !== undefined && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined;
    const location = header(h, 'location');
    const downloadUrl = redirected && location ? new URL(location, finalUrl) : finalUrl;
    return { file, commit: header(h, 'x-repo-commit'), etag, size, downloadUrl };
  });
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/**
 * One attempt at getting `{blob}.incomplete` to full length, resuming from its current size with a
 * Range request. A cut throws a NetworkError (transient) and leaves the partial file for the next try.
 */
async function downloadAttempt(ctx: HubContext, meta: FileMeta, partial: string): Promise<Hash | undefined> {
  let offset = existsSync(partial) ? statSync(partial).size : 0;
  if (meta.size !== undefined && offset > meta.size) {
    truncateSync(partial, 0);
    offset = 0;
  }
  let sha = isSha256(meta.etag) ? createHash('sha256') : undefined;
  // The kept bytes are hashed before the request: once the response has started, nothing may wait
  // between it and the reading of its body.
  if (sha && offset > 0) await hashFile(partial, sha);
  if (meta.size !== undefined && offset === meta.size && offset > 0) return sha;

  const { res } = await request(meta.downloadUrl, {
    method: 'GET',
    headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
    token: ctx.token,
    tokenOrigin: new URL(ctx.endpoint).origin,
    timeoutMs: ctx.timeoutMs,
  });
  const status = res.statusCode ?? 0;
  if (status === 416) {
    // the partial file does not fit what the server has: start over
    res.resume();
    truncateSync(partial, 0);
    throw new NetworkError(`range not satisfiable for ${meta.file}`, 'ERANGE', false);
  }
  if (status >= 400) {
    res.resume();
    throw new HttpStatusError(status, meta.downloadUrl.href, header(res.headers, 'x-error-code'));
  }
  if (status === 206) {
    const start = /^bytes (\d+)-/.exec(header(res.headers, 'content-range') ?? '');
    if (!start || Number(start[1]) !== offset) {
      res.resume();
      truncateSync(partial, 0);
      throw new NetworkError(`server resumed ${meta.file} at the wrong offset`, 'ERANGE', false);
    }
  } else if (offset > 0) {
    // 200 to a Range request: the server ignored it and sends the whole file
    offset = 0;
    if (sha) sha = createHash('sha256');
  }

  const length = header(res.headers, 'content-length');
  const total = meta.size ?? (length !== undefined ? offset + Number(length) : undefined);
  let received = offset;
  const resumedFrom = offset;
  ctx.onProgress?.({ file: meta.file, received, total, resumedFrom, done: false });
  // Flowing mode with synchronous writes: each chunk is on disk the moment it arrives, so when the
  // connection breaks (which discards whatever a paused stream still buffers) the next attempt
  // resumes exactly where this one stopped.
  const fd = openSync(partial, offset > 0 ? 'a' : 'w');
  let diskError: Error | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          // a full disk is not a network problem: stop without retrying
          diskError = e as Error;
          res.destroy();
          return reject(e);
        }
        sha?.update(chunk);
        received += chunk.length;
        ctx.onProgress?.({ file: meta.file, received, total, resumedFrom, done: false });
      });
      res.on('end', resolve);
      res.on('error', reject);
      const closed = () => (res.complete ? resolve() : reject(new Error('connection closed early')));
      res.on('close', closed);
      if (res.destroyed) closed();
    });
  } catch (e) {
    if (diskError) throw new LayerlabError(`cannot write the download (${diskError.message})`, partial);
    throw e instanceof NetworkError ? e : new NetworkError(`download of ${meta.file} was cut (${(e as Error).message})`, (e as NodeJS.ErrnoException).code ?? 'ECONNRESET', false);
  } finally {
    closeSync(fd);
  }
  if (!res.complete || (total !== undefined && received !== total)) {
    throw new NetworkError(`download of ${meta.file} was cut at ${received} of ${total ?? '?'} bytes`, 'ECONNRESET', false);
  }
  ctx.onProgress?.({ file: meta.file, received, total, resumedFrom, done: true });
  return sha;
}

/**
 * Downloads the blob of `meta` to `blobPath` unless it is there. The bytes go to `{blob}.incomplete`
 * first; a cut download is resumed (here, up to ctx.retries times, or by a later call), LFS files are
 * checked against their sha256, and only a verified file is renamed into place.
 */
export async function downloadBlob(ctx: HubContext, meta: FileMeta, blob: string): Promise<void> {
  if (existsSync(blob)) return;
  mkdirSync(dirname(blob), { recursive: true });
  const partial = `${blob}.incomplete`;
  const sha = await withRetries(ctx, () => downloadAttempt(ctx, meta, partial));
  if (sha) {
    const got = sha.digest('hex');
    if (got !== meta.etag) {
      rmSync(partial, { force: true });
      throw new LayerlabError(
        `downloaded ${meta.file} has sha256 ${got}, but the Hub says ${meta.etag}; the file was discarded, run again to download it anew`,
        meta.downloadUrl.href,
      );
    }
  }
  renameSync(partial, blob);
}
