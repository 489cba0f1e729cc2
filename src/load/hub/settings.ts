import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Progress of one file download, reported as bytes arrive (see progress.ts for the default bar). */
export interface DownloadProgress {
  /** file name inside the repository */
  file: string;
  /** bytes on disk so far, including any part kept from an earlier, cut download */
  received: number;
  /** full size when the server said it */
  total?: number;
  /** bytes that were already on disk when this attempt started (not counted in the speed) */
  resumedFrom: number;
  done: boolean;
}

export type ProgressCallback = (p: DownloadProgress) => void;

/** Options of resolveModel; the env-derived ones default to the same variables huggingface_hub reads. */
export interface HubOptions {
  onProgress?: ProgressCallback;
  /** never use the network (also set by HF_HUB_OFFLINE=1) */
  offline?: boolean;
  /** default HF_ENDPOINT, else https://huggingface.co */
  endpoint?: string;
  /** default HF_TOKEN, else the token file written by `huggingface-cli login` */
  token?: string;
  /** default HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub */
  cacheDir?: string;
  /** how many times a cut or failed request is retried before giving up (default 4) */
  retries?: number;
  /** first wait before a retry, doubled each time (default 1000 ms) */
  retryDelayMs?: number;
  /** a request idle for this long is treated as cut (default 30 s) */
  timeoutMs?: number;
}

/** Everything the download code needs, with defaults filled in. */
export interface HubContext {
  endpoint: string;
  token?: string;
  cacheRoot: string;
  offline: boolean;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  onProgress?: ProgressCallback;
}

function hfHome(): string {
  return process.env.HF_HOME || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

/** Same precedence as huggingface_hub: HF_HUB_CACHE, then $HF_HOME/hub, then ~/.cache/huggingface/hub. */
export function hubCacheRoot(): string {
  return process.env.HF_HUB_CACHE || join(hfHome(), 'hub');
}

function envFlag(name: string): boolean {
  return ['1', 'on', 'yes', 'true'].includes((process.env[name] ?? '').trim().toLowerCase());
}

/** HF_TOKEN first; else the file `huggingface-cli login` writes, so logged-in users need no extra step. */
function defaultToken(): string | undefined {
  const env = process.env.HF_TOKEN?.trim();
  if (env) return env;
  const file = process.env.HF_TOKEN_PATH || join(hfHome(), 'token');
  if (!existsSync(file)) return undefined;
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function hubContext(opts: HubOptions = {}): HubContext {
  return {
    endpoint: (opts.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''),
    token: opts.token ?? defaultToken(),
    cacheRoot: opts.cacheDir ?? hubCacheRoot(),
    offline: opts.offline ?? envFlag('HF_HUB_OFFLINE'),
    retries: opts.retries ?? 4,
    retryDelayMs: opts.retryDelayMs ?? 1000,
    timeoutMs: opts.timeoutMs ?? 30_000,
    onProgress: opts.onProgress,
  };
}
