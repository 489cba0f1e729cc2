import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

/** A request that never got an answer. `unreachable` means no connection at all (no network, no DNS). */
export class NetworkError extends Error {
  constructor(message: string, readonly code: string | undefined, readonly unreachable: boolean) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** An answer with an error status; `errorCode` is the Hub's X-Error-Code (RepoNotFound, GatedRepo, ...). */
export class HttpStatusError extends Error {
  constructor(readonly status: number, readonly url: string, readonly errorCode: string | undefined) {
    super(`HTTP ${status} for ${url}${errorCode ? ` (${errorCode})` : ''}`);
    this.name = 'HttpStatusError';
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

/** Worth trying again: the connection broke or the server was briefly unwell. */
export function isTransient(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 429;
  return e instanceof NetworkError && !e.unreachable;
}

export function asNetworkError(e: unknown): NetworkError {
  if (e instanceof NetworkError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  return new NetworkError((e as Error)?.message ?? String(e), code, code !== undefined && UNREACHABLE.has(code));
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendOnce(url: URL, method: string, headers: Record<string, string>, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method, headers }, resolve);
    // The socket timeout also covers the body: a stalled download is destroyed and seen as cut.
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => reject(asNetworkError(e)));
    req.end();
  });
}

export interface RequestOptions {
  method: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** sent as a Bearer token, but only to `tokenOrigin`: a CDN on another host must not see it */
  token?: string;
  tokenOrigin: string;
  timeoutMs: number;
  /** a redirect answer for which this returns true is returned instead of followed */
  keepRedirect?: (res: IncomingMessage) => boolean;
}

const MAX_REDIRECTS = 10;

/** One request, following redirects (relative or absolute). The caller consumes or discards the body. */
export async function request(url: URL, o: RequestOptions): Promise<{ res: IncomingMessage; url: URL }> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') {
      throw new NetworkError(`refusing to follow a redirect to ${current.href}`, undefined, false);
    }
    const headers: Record<string, string> = { 'user-agent': 'layerlab', 'accept-encoding': 'identity', ...o.headers };
    if (o.token && current.origin === o.tokenOrigin) headers.authorization = `Bearer ${o.token}`;
    const res = await sendOnce(current, o.method, headers, o.timeoutMs);
    const status = res.statusCode ?? 0;
    const location = header(res.headers, 'location');
    if (status >= 300 && status < 400 && location && !o.keepRedirect?.(res)) {
      res.resume();
      current = new URL(location, current);
      continue;
    }
    return { res, url: current };
  }
  throw new NetworkError(`more than ${MAX_REDIRECTS} redirects from ${url.href}`, undefined, false);
}
