import { isIP } from 'node:net';
// Types only here: ioredis loads (~0.5 s) only when a command connects, not at every CLI start.
import type { Redis, RedisOptions } from 'ioredis';
import { LayerlabError } from '../util/errors.js';

/**
 * ioredis options that BullMQ's `connection` accepts as they are: ioredis 6 allows `retryStrategy: null`,
 * BullMQ's type does not, so this narrows that one field (still an ioredis RedisOptions).
 */
export type QueueConnection = Omit<RedisOptions, 'retryStrategy'> & { retryStrategy?: (times: number) => number | void | null };

/** Where the queue lives: options for ioredis/BullMQ and a printable URL (password as ***). */
export interface QueueTarget {
  connection: QueueConnection;
  display: string;
}

/** The env variable read when `--queue` is not given. */
export const QUEUE_ENV = 'LAYERLAB_QUEUE';

/** The queue URL: the flag, else LAYERLAB_QUEUE (an empty one counts as unset), else undefined (in-process). */
export function queueUrlFrom(flag: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  const env = process.env[QUEUE_ENV];
  return env === undefined || env === '' ? undefined : env;
}

const DEFAULT_PORT = 6379;
/** A refused or silent host fails within this long instead of hanging a command. */
const CONNECT_TIMEOUT_MS = 5000;
const FORM = 'redis://[user:password@]host:port[/db] or rediss:// for TLS';

/**
 * Parses `redis://[user:password@]host:port[/db]` (or `rediss://`, TLS). Every error names --queue and
 * shows the URL with its password replaced by ***, so a password never reaches a terminal or a log.
 */
export function parseQueueUrl(url: string): QueueTarget {
  const bad = (why: string): never => {
    throw new LayerlabError(`--queue ${maskPassword(url)}: ${why} (expected ${FORM})`);
  };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') bad(`unsupported scheme "${u.protocol.replace(/:$/, '')}"`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1'); // IPv6 literals come bracketed
  if (host === '') bad('no host');
  // The URL parser accepts any digits for non-special schemes' ports; check the range ourselves.
  const port = u.port === '' ? DEFAULT_PORT : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad('port must be 1-65535');
  const path = u.pathname;
  let db = 0;
  if (path !== '' && path !== '/') {
    const m = /^\/(\d{1,5})$/.exec(path);
    if (!m) bad(`database must be a number, as in /0, not "${path}"`);
    db = Number(m![1]);
  }
  if (u.search !== '' || u.hash !== '') bad('no query or fragment allowed');
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = u.username === '' ? undefined : decodeURIComponent(u.username);
    password = u.password === '' ? undefined : decodeURIComponent(u.password);
  } catch {
    bad('bad %-escape in the user or password');
  }
  if (username !== undefined && password === undefined) bad('a user name needs a password (user:password@)');
  const tls = u.protocol === 'rediss:';
  const connection: QueueConnection = {
    host,
    port,
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    // SNI only for names (Node rejects an IP as servername); certificates are checked against the host.
    ...(tls ? { tls: isIP(host) ? {} : { servername: host } } : {}),
    maxRetriesPerRequest: null, // BullMQ workers require it: blocking commands wait across reconnects
    connectTimeout: CONNECT_TIMEOUT_MS,
  };
  const auth = username !== undefined || password !== undefined ? `${username ?? ''}${password !== undefined ? ':***' : ''}@` : '';
  const hostPart = isIP(host) === 6 ? `[${host}]` : host;
  const display = `${u.protocol}//${auth}${hostPart}:${port}${db !== 0 ? `/${db}` : ''}`;
  return { connection, display };
}

/** Text that may not even parse, with everything between the scheme and the last "@" (user, password) as ***. */
function maskPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^]*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/** After a successful connect, a dropped connection is retried this many times (~1 min) before giving up. */
const RECONNECT_TRIES = 30;

/**
 * Connects and PINGs. Fails, never retrying forever, with one line: "cannot reach Redis at <display>: ..."
 * or "Redis at <display> refused the password". The password never appears in a message. Once connected,
 * the client reconnects after a dropped connection (a Redis restart) for about a minute, then fails its
 * pending commands.
 */
export async function connectRedis(target: QueueTarget, opts: { timeoutMs?: number } = {}): Promise<Redis> {
  const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
  let connected = false;
  const { Redis } = await import('ioredis');
  const redis = new Redis({
    ...target.connection,
    connectTimeout: Math.min(target.connection.connectTimeout ?? timeoutMs, timeoutMs),
    lazyConnect: true,
    retryStrategy: (times) => (connected && times <= RECONNECT_TRIES ? Math.min(200 * times, 2000) : null),
  });
  let lastError: Error | undefined;
  redis.on('error', (e: Error) => { lastError = e; }); // reported below, not as ioredis's "Unhandled error event"
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([(async () => {
      await redis.connect();
      await redis.ping();
    })(), deadline]);
    connected = true;
    return redis;
  } catch (e) {
    redis.disconnect();
    // ioredis rejects connect() with a bare "Connection is closed"; the cause came as an 'error' event.
    throw redisError(target, lastError ?? (e instanceof Error ? e : new Error(String(e))));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The one-line error for a failed Redis command or connection. Exported so every Redis caller words its
 * failures the same way (and never prints the password).
 */
export function redisError(target: QueueTarget, e: Error): LayerlabError {
  const msg = scrub(e.message, target);
  if (/\b(NOAUTH|WRONGPASS)\b/.test(msg) || /invalid password/i.test(msg))
    return new LayerlabError(`Redis at ${target.display} refused the password (${target.connection.password ? 'check the password in --queue' : 'it needs one: redis://:password@host:port'})`);
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'unknown host' : code === 'ETIMEDOUT' ? 'connection timed out' : msg;
  return new LayerlabError(`cannot reach Redis at ${target.display}: ${why.replace(/\s*\n\s*/g, ' ')}`);
}

function scrub(text: string, target: QueueTarget): string {
  const pw = target.connection.password;
  return pw ? text.split(pw).join('***') : text;
}

/**
 * Command-line arguments with the password of every Redis URL in them replaced by ***. Manifests, run
 * locks and report headers record the command line; they get it through this (src/cli/main.ts).
 */
export function redactQueueArgs(args: readonly string[]): string[] {
  return args.map((a) => a.replace(/(rediss?:\/\/[^:/@\s]*:)\S*@/gi, '$1***@'));
}
