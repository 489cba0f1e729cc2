import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/shared.js';

export const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** Every process a queue test starts: killed (with its compute processes) when the test file ends. */
const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of started) {
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch { /* gone */ }
  }
});

/** Same threads everywhere, so provenance (threads) is the same in and out of the queue; short stall checks. */
export const QUEUE_TEST_ENV = { LAYERLAB_THREADS: '1', LAYERLAB_QUEUE_TEST_LOCK_MS: '1000', LAYERLAB_QUEUE_TEST_GRACE_MS: '2000' };

export interface Proc {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the first output match (rejects when the process exits first or after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** SIGKILL of the process itself, or of its whole group (with its compute processes). */
  kill(group?: boolean): void;
}

/** `layerlab ARGS` in its own process group, output collected. */
export function startCli(args: string[], env: Record<string, string> = {}): Proc {
  const proc = spawn(process.execPath, [main, ...args], { env: { ...process.env, ...QUEUE_TEST_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.add(proc);
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => proc.on('exit', (code, signal) => {
    started.delete(proc);
    resolve({ code, signal });
    for (const w of [...waiters]) w();
  }));
  return {
    proc,
    output: () => out,
    exited,
    waitFor(re, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${re} in:\n${out}`)), ms);
        const check = () => {
          const m = out.match(re);
          if (m) return finish(undefined, m);
          if (proc.exitCode !== null || proc.signalCode !== null) finish(new Error(`process ended before ${re}:\n${out}`));
        };
        const finish = (e?: Error, m?: RegExpMatchArray) => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
          if (e) reject(e);
          else resolve(m!);
        };
        waiters.push(check);
        check();
      });
    },
    kill(group = false) {
      try {
        process.kill(group ? -proc.pid! : proc.pid!, 'SIGKILL');
      } catch { /* gone */ }
    },
  };
}

/** Runs `layerlab ARGS` to its end. */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; output: string }> {
  const p = startCli(args, env);
  const r = await p.exited;
  return { ...r, output: p.output() };
}

/** A worker on `url`, models from `modelsDir`; resolves once it listens. */
export async function startWorker(url: string, modelsDir: string, env: Record<string, string> = {}): Promise<Proc> {
  const w = startCli(['worker', '--queue', url, '--models', modelsDir, '--threads', '1'], env);
  await w.waitFor(/listening on/);
  return w;
}

/** Stops workers gracefully (SIGTERM) and waits. */
export async function stopWorkers(ws: Proc[]): Promise<void> {
  for (const w of ws) w.proc.kill('SIGTERM');
  await Promise.all(ws.map((w) => w.exited));
}

/** A result file without the per-process provenance timestamp. */
export function comparable(path: string): unknown {
  const m = JSON.parse(readFileSync(path, 'utf8'));
  delete m.provenance.created;
  return m;
}

/** Every result file of a stages folder (manifest excluded: it records the command line and where jobs ran). */
export function stageFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'manifest.json' && !f.startsWith('.')).sort();
}

/** A folder of models holding a copy of `modelDir` under `name`. */
export function modelsFolder(root: string, modelDir: string, name: string): string {
  const dir = join(root, 'models');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, name))) cpSync(modelDir, join(dir, name), { recursive: true });
  return dir;
}

/** Job ids a worker log says it started, in order. */
export const startedJobs = (log: string): string[] => [...log.matchAll(/job ([0-9a-f]{16}\.[a-z0-9-]+) \(.*\): started/g)].map((m) => m[1]);

/** Waits until `dir/.state` holds at least `n` finished job states (`<job>.bin`, not partial). */
export async function waitForStates(dir: string, n: number, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  const count = () => (existsSync(join(dir, '.state')) ? readdirSync(join(dir, '.state')).filter((f) => f.endsWith('.bin') && !f.includes('partial')).length : 0);
  while (count() < n) {
    if (Date.now() > deadline) throw new Error(`no ${n} finished job states in ${dir} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
