/**
 * `layerlab worker`: pulls jobs of every run from the BullMQ queue and runs them. The main process only
 * talks to Redis (BullMQ's lock renewal and stalled checks, the heartbeat in WORKERS_KEY every 5 s); each
 * job computes in one of `concurrency` compute processes (src/queue/compute-process.ts), each with
 * `threads` BLAS/kernel threads and its own recently used models. So --concurrency N runs N jobs at once
 * in N processes: give N x T <= the machine's cores (N = 1, T = cores is the usual choice; the native
 * kernels keep per-process scratch state, which is why jobs never share a process's threads).
 *
 * A job that this worker will not run (bad data, another model digest, a model outside --models or
 * --allow-models) fails at once with this worker's message (BullMQ's UnrecoverableError), which the
 * coordinator shows as it fails the run; a job that fails otherwise (an exception, a NaN, a compute
 * process that died) is retried JOB_ATTEMPTS times in all. Stall detection: src/queue/stall.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { connectRedis, parseQueueUrl } from './redis-url.js';
import { HEARTBEAT_INTERVAL_MS, JOBS_QUEUE, QUEUE_PREFIX, WORKERS_KEY, type WorkerHeartbeat } from './names.js';
import { encodeResult, parseJobData, modelRefText, JobRejected } from './job-codec.js';
import type { FromCompute, ToCompute } from './compute-process.js';
import { stallSettings } from './stall.js';

export interface WorkerOptions {
  queue: string;
  concurrency: number;
  threads: number;
  modelsDir?: string;
  /** Patterns of allowed model names (Hub ids or folder names); default every model it can find. */
  allow: string[];
  /** Models each compute process keeps loaded (default 2). */
  keepModels?: number;
  log?: (line: string) => void;
}

/** Reconnect forever (a worker outlives Redis restarts), backing off to 5 s. */
const reconnect = (times: number) => Math.min(250 * times, 5000);

interface Slot {
  proc?: ChildProcess;
  busy: boolean;
}

/** Runs until SIGINT/SIGTERM (then finishes its current jobs; a second signal stops at once). */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const target = parseQueueUrl(opts.queue);
  // Fails with one line (unreachable, wrong password) before anything starts.
  (await connectRedis(target)).disconnect();
  const id = `${hostname()}:${process.pid}`;
  const say = (m: string) => log(`layerlab worker ${id}: ${m}`);
  const connection = { ...target.connection, retryStrategy: reconnect };
  const redis = new Redis(connection);
  let redisDown = false;
  redis.on('error', (e: Error) => {
    if (!redisDown) say(`lost Redis at ${target.display} (${e.message}); reconnecting`);
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) say(`Redis at ${target.display} is back`);
    redisDown = false;
  });

  const slots: Slot[] = Array.from({ length: opts.concurrency }, () => ({ busy: false }));
  const script = fileURLToPath(new URL('./compute-process.js', import.meta.url));
  const models = new Set<string>();
  const current = new Set<string>();
  let nextId = 0;

  const spawnCompute = (): ChildProcess => {
    const proc = fork(script, [], { serialization: 'advanced', env: { ...process.env, LAYERLAB_THREADS: String(opts.threads) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    proc.send({ type: 'config', pool: { modelsDir: opts.modelsDir, allow: opts.allow, capacity: opts.keepModels } } satisfies ToCompute);
    return proc;
  };

  /** Runs one job's data in a free compute process; resolves with its state bytes. */
  const compute = (slot: Slot, data: unknown, label: string): Promise<Uint8Array> => {
    if (!slot.proc || slot.proc.exitCode !== null || slot.proc.signalCode !== null) slot.proc = spawnCompute();
    const proc = slot.proc;
    const jobNo = nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromCompute) => {
        if (m.id !== jobNo) return;
        if (m.type === 'loaded') return say(`${label}: model ${m.model} ready${m.loadMs > 50 ? ` (loaded in ${(m.loadMs / 1000).toFixed(1)} s)` : ''}`);
        cleanup();
        if (m.type === 'done') {
          for (const n of m.models) models.add(n);
          resolve(m.bytes);
        } else reject(m.rejected ? new JobRejected(m.message) : new Error(m.message));
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new Error(`the compute process died (${signal ?? `exit code ${code}`}${signal === 'SIGKILL' ? ': out of memory?' : ''})`));
      };
      const cleanup = () => {
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      proc.on('message', onMessage);
      proc.on('exit', onExit);
      proc.send({ type: 'job', id: jobNo, data } satisfies ToCompute);
    });
  };

  const processor = async (job: Job): Promise<string> => {
    let label = `job ${job.id}`;
    try {
      const data = parseJobData(job.data);
      label = `job ${job.id} (${data.describe}, model ${modelRefText(data.model)}, attempt ${job.attemptsMade + 1})`;
    } catch (e) {
      throw new UnrecoverableError(`worker ${id}: ${(e as Error).message}`);
    }
    const slot = slots.find((s) => !s.busy)!;
    slot.busy = true;
    current.add(String(job.id));
    const t0 = Date.now();
    say(`${label}: started`);
    try {
      const bytes = await compute(slot, job.data, label);
      say(`${label}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return encodeResult(bytes);
    } catch (e) {
      const msg = `worker ${id}: ${(e as Error).message}`;
      say(`${label}: failed after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${(e as Error).message}`);
      throw e instanceof JobRejected ? new UnrecoverableError(msg) : new Error(msg);
    } finally {
      slot.busy = false;
      current.delete(String(job.id));
    }
  };

  const started = new Date().toISOString();
  const heartbeat = async () => {
    const beat: WorkerHeartbeat = {
      worker_id: id, host: hostname(), pid: process.pid, started_at: started, seen_at: new Date().toISOString(),
      concurrency: opts.concurrency, threads: opts.threads, models_loaded: [...models], current_job: [...current][0] ?? null,
    };
    try {
      await redis.hset(WORKERS_KEY, id, JSON.stringify(beat));
    } catch { /* reported by the 'error' handler; the next beat tries again */ }
  };
  await heartbeat();
  const beats = setInterval(() => void heartbeat(), HEARTBEAT_INTERVAL_MS);

  const worker = new Worker(JOBS_QUEUE, processor, { connection, prefix: QUEUE_PREFIX, concurrency: opts.concurrency, ...stallSettings() });
  let lastError = 0;
  worker.on('error', (e) => {
    // BullMQ reports each failed reconnect; one line every 30 s is enough.
    if (Date.now() - lastError > 30_000) say(`queue error: ${e.message}`);
    lastError = Date.now();
  });
  say(`listening on ${target.display} (concurrency ${opts.concurrency}, ${opts.threads} threads each${opts.modelsDir ? `, models from ${opts.modelsDir}` : ''}, allowed: ${opts.allow.join(',')})`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) process.exit(130);
      stopping = true;
      say(`${sig}: finishing the current jobs, then stopping (again to stop at once)`);
      resolve();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  // With Redis unreachable a graceful close would wait for it forever: stop at once (the jobs' locks expire).
  await worker.close(redisDown);
  clearInterval(beats);
  for (const s of slots) s.proc?.kill();
  try {
    await redis.hdel(WORKERS_KEY, id);
  } catch { /* gone with Redis */ }
  redis.disconnect();
  say('stopped');
}
