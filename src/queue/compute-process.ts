/**
 * A worker's compute process (forked by src/queue/worker.ts, one per --concurrency slot): holds the model
 * pool, and for each job it is sent validates the job data and payload, loads the model (or finds it
 * loaded), compares digests, runs the job through the same code as an in-process run
 * (src/runs/execute-job.ts) and sends the finished state back. Jobs compute synchronously here, so the
 * worker's main process stays free to renew BullMQ locks and send heartbeats. If the worker dies, this
 * process notices at the next batch (its parent changed) and exits.
 */
import { executeJob } from '../runs/execute-job.js';
import { checkPayloadForModel, decodePayload, JobRejected, parseJobData } from './job-codec.js';
import { ModelPool, type PoolOptions } from './model-pool.js';

export type ToCompute = { type: 'config'; pool: PoolOptions } | { type: 'job'; id: number; data: unknown };
export type FromCompute =
  | { type: 'loaded'; id: number; model: string; loadMs: number }
  | { type: 'done'; id: number; bytes: Uint8Array; models: string[] }
  | { type: 'error'; id: number; message: string; rejected: boolean };

let pool: ModelPool | undefined;
/**
 * Test-only: LAYERLAB_QUEUE_TEST_PAUSE_MS=n sleeps n ms at every progress step of a job (without using
 * the CPU), so fault tests can kill a worker or a coordinator mid-run deterministically. Never set it otherwise.
 */
const pauseMs = Number(process.env.LAYERLAB_QUEUE_TEST_PAUSE_MS ?? 0);
const pause = pauseMs > 0 ? () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs) : () => undefined;
const parent = process.ppid;
const send = (m: FromCompute) => process.send!(m);

async function run(id: number, raw: unknown): Promise<void> {
  try {
    if (!pool) throw new Error('compute process got a job before its configuration');
    const data = parseJobData(raw);
    const payload = decodePayload(data);
    const t0 = Date.now();
    const { model, digest, name } = await pool.get(data.model, data.dtype);
    send({ type: 'loaded', id, model: name, loadMs: Date.now() - t0 });
    if (digest !== data.model_digest)
      throw new JobRejected(`model ${name} on this worker has digest ${digest.slice(0, 16)}, the run's has ${data.model_digest.slice(0, 16)}: another version of the model; give this worker the coordinator's copy`);
    checkPayloadForModel(payload, model.config.vocabSize);
    const bytes = executeJob(model, payload, {
      name: data.job,
      onProgress: () => {
        if (process.ppid !== parent) process.exit(1); // the worker is gone: nobody takes this result
        pause();
      },
    });
    send({ type: 'done', id, bytes, models: pool.names() });
  } catch (e) {
    const message = e instanceof Error ? e.message.replace(/\s*\n\s*/g, ' ') : String(e);
    send({ type: 'error', id, message, rejected: e instanceof JobRejected });
  }
}

process.on('message', (m: ToCompute) => {
  if (m.type === 'config') pool = new ModelPool(m.pool);
  else if (m.type === 'job') void run(m.id, m.data);
});
process.on('disconnect', () => process.exit(0));
