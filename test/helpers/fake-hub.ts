import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * A local stand-in for the Hugging Face Hub, on 127.0.0.1 only, answering like huggingface.co does:
 *   HEAD/GET /{org}/{name}/resolve/{revision}/{file}
 *     small files: 200, ETag "<git blob sha1>", X-Repo-Commit
 *     LFS files:   302 to /cdn/<sha256> with X-Linked-Etag "<sha256>", X-Linked-Size, X-Repo-Commit
 *     errors:      401 GatedRepo, 404 RepoNotFound / RevisionNotFound / EntryNotFound (X-Error-Code)
 *   GET /cdn/<sha256>   the bytes, with Range support (206)
 * plus switches for the failures a client must survive.
 */

export interface FakeRepo {
  commit: string;
  files: Record<string, Buffer>;
  /** branch or tag → commit; default { main: commit } */
  refs?: Record<string, string>;
  /** gated: only `Authorization: Bearer <token>` gets through */
  token?: string;
}

export interface FakeHubOptions {
  repos: Record<string, FakeRepo>;
  /** where LFS redirects point: a relative path, an absolute URL on this server, or a second server */
  redirect?: 'relative' | 'absolute' | 'other-host';
  /** the first `times` CDN GETs of `file` are cut after `afterBytes` bytes of body */
  cut?: { file: string; afterBytes: number; times: number };
  /** the CDN serves these LFS files with one byte flipped (the sha256 no longer matches) */
  corrupt?: string[];
  /** the CDN answers Range requests with the whole file (200) */
  ignoreRange?: boolean;
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  url: string;
  cdnUrl: string;
  requests: LoggedRequest[];
  close(): Promise<void>;
}

const isLfs = (file: string) => file.endsWith('.safetensors');

function gitBlobSha1(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const requests: LoggedRequest[] = [];
  const blobs = new Map<string, { file: string; data: Buffer }>();
  for (const repo of Object.values(opts.repos)) {
    for (const [file, data] of Object.entries(repo.files)) if (isLfs(file)) blobs.set(sha256(data), { file, data });
  }
  let cutsLeft = opts.cut?.times ?? 0;

  const fail = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { 'x-error-code': code, 'content-type': 'text/plain' });
    res.end(code);
  };

  function serveCdn(req: IncomingMessage, res: ServerResponse, sha: string): void {
    const blob = blobs.get(sha);
    if (!blob) return fail(res, 404, 'NoSuchBlob');
    let data = blob.data;
    if (opts.corrupt?.includes(blob.file)) {
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0xff;
    }
    const range = opts.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start >= data.length) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` });
      return void res.end();
    }
    const body = data.subarray(start);
    res.writeHead(range ? 206 : 200, {
      'content-length': body.length,
      ...(range ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    if (opts.cut && opts.cut.file === blob.file && cutsLeft > 0 && opts.cut.afterBytes < body.length) {
      cutsLeft--;
      // send part of the body, then drop the connection as a flaky network would
      res.write(body.subarray(0, opts.cut.afterBytes), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }

  function serve(server: 'hub' | 'cdn', base: () => string) {
    return (req: IncomingMessage, res: ServerResponse) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push({ server, method: req.method ?? '', path, range: req.headers.range, authorization: req.headers.authorization });
      const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
      if (cdn) return serveCdn(req, res, cdn[1]);
      if (server === 'cdn') return fail(res, 404, 'NotFound');
      const m = /^\/([^/]+\/[^/]+)\/resolve\/(refs\/pr\/\d+|[^/]+)\/(.+)$/.exec(path);
      if (!m) return fail(res, 404, 'NotFound');
      const [, repoId, revision, file] = m;
      const repo = opts.repos[repoId];
      if (!repo) return fail(res, 404, 'RepoNotFound');
      if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) return fail(res, 401, 'GatedRepo');
      const refs = repo.refs ?? { main: repo.commit };
      const commit = revision === repo.commit ? repo.commit : refs[revision];
      if (!commit) return fail(res, 404, 'RevisionNotFound');
      const data = repo.files[file];
      if (!data) return fail(res, 404, 'EntryNotFound');
      if (isLfs(file)) {
        const sha = sha256(data);
        const location = opts.redirect === 'absolute' || opts.redirect === 'other-host' ? `${base()}/cdn/${sha}` : `/cdn/${sha}`;
        res.writeHead(302, { location, 'x-repo-commit': commit, 'x-linked-etag': `"${sha}"`, 'x-linked-size': data.length, 'content-length': 0 });
        return void res.end();
      }
      res.writeHead(200, { etag: `"${gitBlobSha1(data)}"`, 'x-repo-commit': commit, 'content-length': data.length });
      res.end(req.method === 'HEAD' ? undefined : data);
    };
  }

  let hubUrl = '';
  let cdnUrl = '';
  const hubServer = http.createServer();
  const cdnServer = http.createServer();
  const cdnBase = () => (opts.redirect === 'other-host' ? cdnUrl : hubUrl);
  hubServer.on('request', serve('hub', cdnBase));
  cdnServer.on('request', serve('cdn', cdnBase));
  hubUrl = await listen(hubServer);
  cdnUrl = await listen(cdnServer);

  const close = (s: http.Server) => new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });
  return { url: hubUrl, cdnUrl, requests, close: async () => void (await Promise.all([close(hubServer), close(cdnServer)])) };
}

/** A fake 40-hex commit id derived from a label, so tests read clearly. */
export function fakeCommit(label: string): string {
  return createHash('sha1').update(label).digest('hex');
}

/**
 * Runs `fn` against a fresh fake hub with a fresh cache: HF_HUB_CACHE and HF_HOME point into a temp
 * folder (no login token of the machine leaks in), HF_TOKEN and HF_HUB_OFFLINE are unset, HF_ENDPOINT is
 * the fake hub. Everything is removed afterwards.
 */
export async function withFakeHub(opts: FakeHubOptions, fn: (hub: FakeHub, cache: string) => Promise<void>): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'layerlab-hub-'));
  const cache = join(tmp, 'hub');
  Object.assign(process.env, { HF_HUB_CACHE: cache, HF_HOME: tmp });
  delete process.env.HF_TOKEN;
  delete process.env.HF_HUB_OFFLINE;
  const hub = await startFakeHub(opts);
  process.env.HF_ENDPOINT = hub.url;
  try {
    await fn(hub, cache);
  } finally {
    await hub.close();
    rmSync(tmp, { recursive: true, force: true });
    delete process.env.HF_HUB_OFFLINE;
  }
}
