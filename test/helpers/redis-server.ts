import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A throw-away redis-server for tests: Debian's binary on a free loopback port, in a fresh temporary
 * folder, stopped afterwards (and SIGKILLed at process exit at the latest). Tests never skip when it is
 * missing: CI runs them, and `bash scripts/setup.sh` installs the package.
 */
export interface RedisServer {
  /** redis://[:password@]127.0.0.1:port (rediss://[:password@]localhost:port with `tls`) */
  url: string;
  /** With `tls`: the test CA that signed the server's certificate (for NODE_EXTRA_CA_CERTS). */
  caFile?: string;
  port: number;
  dir: string;
  /** Graceful shutdown (SIGTERM: Redis flushes its AOF), wait for exit, remove the folder. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash; the folder stays for `restart` or `stop`. */
  kill(): void;
  /** Stop (keeping the folder) and start again on the same port and folder. */
  restart(): Promise<void>;
}

const MISSING = 'redis-server is not installed: run bash scripts/setup.sh';
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function redisBinary(): string {
  const paths = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin'];
  for (const d of paths) {
    if (!d) continue;
    const p = join(d, 'redis-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  throw new Error(MISSING);
}

/** A port free right now on 127.0.0.1 (the kernel's pick for :0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends PING; true once the server answers (PONG, or NOAUTH when it has a password). */
function pingOnce(port: number, ca?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock: Socket = ca ? tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }) : createConnection({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on(ca ? 'secureConnect' : 'connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG') || buf.startsWith('-NOAUTH'));
    });
  });
}

interface Options {
  password?: string;
  aof?: boolean;
  /** TLS only (no plain port), with a certificate for localhost and 127.0.0.1 from a fresh test CA (needs openssl). */
  tls?: boolean;
}

/** A test CA and a server certificate for localhost / 127.0.0.1, made with openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=layerlab test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('san.cnf'));
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

function spawnServer(bin: string, port: number, dir: string, opts: Options): { child: ChildProcess; output: () => string } {
  const tls = opts.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', join(dir, 'tls', 'server.crt'), '--tls-key-file', join(dir, 'tls', 'server.key'),
      '--tls-ca-cert-file', join(dir, 'tls', 'ca.crt'), '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const args = [...tls, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', opts.aof ? 'yes' : 'no',
    '--daemonize', 'no', '--supervised', 'no', '--loglevel', 'warning', '--logfile', ''];
  if (opts.password !== undefined) args.push('--requirepass', opts.password);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => { out = (out + d.toString('utf8')).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // A forgotten server must not keep a test file's process alive; the exit hook kills it.
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  live.add(child);
  child.on('exit', () => live.delete(child));
  return { child, output: () => out };
}

async function waitReady(child: ChildProcess, port: number, output: () => string, ca?: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited at start: ${output().trim()}`);
    if (await pingOnce(port, ca)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer within 15 s: ${output().trim()}`);
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); }, ms);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

/** Starts a redis-server on a free loopback port in a fresh temporary folder; resolves once it answers PING. */
export async function startRedis(opts: Options = {}): Promise<RedisServer> {
  const bin = redisBinary();
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-redis-'));
  dirs.add(dir);
  let ca: string | undefined;
  if (opts.tls) {
    mkdirSync(join(dir, 'tls'));
    ca = readFileSync(makeCertificates(join(dir, 'tls')).ca, 'utf8');
  }
  let port = 0;
  let proc: { child: ChildProcess; output: () => string } | undefined;
  // The port is free when picked but could be taken before redis binds it: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    proc = spawnServer(bin, port, dir, opts);
    try {
      await waitReady(proc.child, port, proc.output, ca);
      break;
    } catch (e) {
      if (attempt >= 3 || !/in use/i.test(proc.output())) {
        rmSync(dir, { recursive: true, force: true });
        dirs.delete(dir);
        throw e;
      }
    }
  }
  const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : '';
  const halt = async () => {
    const child = proc!.child;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitExit(child, 10_000);
  };
  return {
    url: opts.tls ? `rediss://${auth}localhost:${port}` : `redis://${auth}127.0.0.1:${port}`,
    ...(opts.tls ? { caFile: join(dir, 'tls', 'ca.crt') } : {}),
    port,
    dir,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
    kill() {
      proc!.child.kill('SIGKILL');
    },
    async restart() {
      await halt();
      proc = spawnServer(bin, port, dir, opts);
      await waitReady(proc.child, port, proc.output, ca);
    },
  };
}
