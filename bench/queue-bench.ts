import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Backend } from '../src/backend/index.js';
import { forward } from '../src/model/forward.js';
import { gpt2SmallConfig, randomModel, SeededRandom } from '../src/model/random.js';
import { JOBS_QUEUE, QUEUE_PREFIX, jobId } from '../src/queue/names.js';
import { parseQueueUrl } from '../src/queue/redis-url.js';
import { checkPayloadForModel, decodePayload, decodeResult, encodePayload, encodeResult, parseJobData, type QueueJobData } from '../src/queue/job-codec.js';
import { executeJob } from '../src/runs/execute-job.js';
import { encodeJob, packWindows, type SweepJobPayload } from '../src/runs/jobs.js';
import { mergeSweepJobs } from '../src/runs/sweep.js';
import { generateInterventions, parseInterventionSpecs } from '../src/sweep/interventions.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { timeMedian } from './machine.js';

/**
 * BENCH=queue (a): what the queue adds to one job, against the job's compute. One sweep job of a
 * GPT-2-small-shaped random model (all deletions and swaps, QUEUE_BENCH_WINDOWS x QUEUE_BENCH_SEQ random
 * tokens, default 4 x 512: the job a `--shard-docs 4` run makes of 512-token documents) is computed once;
 * then, against a redis-server started here (AOF on, as a production Redis should be), each piece of the
 * job's trip is timed, median over QUEUE_BENCH_REPS (default 30):
 *   serialize  the coordinator builds the job data (payload in compact binary, base64 in the job's JSON)
 *   add        BullMQ add (the payload goes to Redis)
 *   fetch      a worker takes the job (BullMQ moveToActive; the payload comes back)
 *   decode     the worker validates the job data and decodes and checks the payload (src/queue/job-codec.ts)
 *   complete   the worker returns the finished state (base64) as the job's return value
 *   collect    the coordinator sees it finished, reads the return value, removes the job
 *   merge      the coordinator decodes the state and merges it (per job, from a 2-shard merge)
 * Redis traffic per job (commands, counting those inside BullMQ's Lua scripts; bytes in and out; memory of
 * a queued job) comes from INFO deltas, and so does the cost of one poll of a job's state.
 */
export async function benchQueue(backend: Backend, log: (s: string) => void) {
  const env = process.env;
  const nWindows = Number(env.QUEUE_BENCH_WINDOWS ?? 4);
  const seq = Number(env.QUEUE_BENCH_SEQ ?? 512);
  const reps = Number(env.QUEUE_BENCH_REPS ?? 30);
  const batchTokens = 4096;
  const config = gpt2SmallConfig();
  const model = randomModel(config, 7, backend);
  const rng = new SeededRandom(5);
  const windows = Array.from({ length: nWindows }, () =>
    Int32Array.from({ length: seq }, (_, t) => (t === 0 ? config.bosTokenId! : Math.floor(rng.uniform() * config.vocabSize))));
  const docIndex = windows.map((_, i) => i); // one document per window: the largest state for these tokens
  const plans = generateInterventions(parseInterventionSpecs('delete,swap'), config.nLayers).map((i) => i.plan);
  const tokens = nWindows * (seq - 1);

  const payload: SweepJobPayload = {
    kind: 'sweep', shard: 0, group: 0, plans: plans.map((p) => [...p]), windows: packWindows(windows, docIndex),
    options: { maxBatchTokens: batchTokens, prefixCacheBytes: 512 * 2 ** 20 },
  };
  // The job's compute, as a worker's compute process runs it (src/queue/compute-process.ts).
  const warm = Math.min(64, seq);
  forward(model, { ids: windows[0].subarray(0, warm), batch: 1, seq: warm }); // page in weights
  log(`queue bench: computing one sweep job (${plans.length} plans + baseline, ${nWindows} x ${seq} tokens) ...`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const state = executeJob(model, payload, { name: 'bench' });
  const computeMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const computeCpuMs = (cpu.user + cpu.system) / 1000;
  log(`  ${(computeMs / 1000).toFixed(1)} s (${(computeCpuMs / 1000).toFixed(1)} s CPU); state ${state.length} bytes`);

  // The job data as the coordinator builds it (src/queue/coordinator.ts) and a worker validates it.
  const runId = '0123456789abcdef';
  const data = (i: number): QueueJobData => ({
    format: 1, run_id: runId, job: `sweep-job-${i < 0 ? 'warm' : i}-0`, describe: `shard ${i}`, model: { folder: 'gpt2-small' },
    model_digest: '0'.repeat(64), dtype: 'f32', payload: encodePayload(payload),
  });
  const payloadText = encodePayload(payload);
  const stateText = encodeResult(state);
  const serializeMs = timeMedian(reps, () => data(0));
  const workerDecode = (raw: unknown) => checkPayloadForModel(decodePayload(parseJobData(raw)), config.vocabSize);
  const decodeMs = timeMedian(reps, () => workerDecode(JSON.parse(JSON.stringify(data(0)))));
  // Merge cost per job: two shards' states decoded and merged, halved.
  const group = [plans.map((_, i) => i)];
  const mergeMs = timeMedian(reps, () => mergeSweepJobs([{ shard: 0, group: 0, bytes: decodeResult(stateText) }, { shard: 1, group: 0, bytes: decodeResult(stateText) }], group, plans.length)) / 2;

  log(`queue bench: Redis round trips (${reps} jobs) ...`);
  const server = await startRedis({ aof: true });
  const connection = parseQueueUrl(server.url).connection;
  const admin = new Redis(connection);
  const queue = new Queue(JOBS_QUEUE, { connection, prefix: QUEUE_PREFIX });
  const worker = new Worker(JOBS_QUEUE, null, { connection, prefix: QUEUE_PREFIX, lockDuration: 30_000 });
  const token = 'bench-worker';
  const stats = async () => {
    const info = await admin.info();
    const field = (k: string) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(info)![1]);
    const seconds = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)![1]);
    return {
      commands: field('total_commands_processed'), netIn: field('total_net_input_bytes'), netOut: field('total_net_output_bytes'), memory: field('used_memory'),
      // Redis's own CPU time (its main thread does all command work): what bounds its throughput.
      cpuS: seconds('used_cpu_user_main_thread') + seconds('used_cpu_sys_main_thread'),
    };
  };
  const times = { add: [] as number[], fetch: [] as number[], complete: [] as number[], collect: [] as number[] };
  let traffic = { commands: 0, netIn: 0, netOut: 0, cpuUs: 0 };
  let queuedJobBytes = 0, pollMs = 0, pollCommands = 0, pollCpuUs = 0;
  try {
    const lifecycle = async (i: number) => {
      const d = data(i);
      const id = jobId(runId, d.job);
      let t = performance.now();
      await queue.add(d.job, d, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false });
      times.add.push(performance.now() - t);
      t = performance.now();
      const job = (await worker.getNextJob(token)) as Job;
      times.fetch.push(performance.now() - t);
      if (job.id !== id) throw new Error(`queue bench: fetched ${job.id}, expected ${id}`);
      workerDecode(job.data);
      t = performance.now();
      await job.moveToCompleted(stateText, token, false);
      times.complete.push(performance.now() - t);
      t = performance.now();
      if ((await queue.getJobState(id)) !== 'completed') throw new Error('queue bench: job not completed');
      const done = (await queue.getJob(id))!;
      if (decodeResult(done.returnvalue).length !== state.length) throw new Error('queue bench: return value differs');
      await done.remove();
      times.collect.push(performance.now() - t);
    };
    await lifecycle(-1); // warm-up: scripts loaded, connections open
    for (const k of Object.keys(times) as (keyof typeof times)[]) times[k] = [];
    const before = await stats();
    for (let i = 0; i < reps; i++) await lifecycle(i);
    const after = await stats();
    // The two INFO calls themselves count one command each.
    traffic = {
      commands: (after.commands - before.commands - 1) / reps, netIn: (after.netIn - before.netIn) / reps, netOut: (after.netOut - before.netOut) / reps,
      cpuUs: ((after.cpuS - before.cpuS) / reps) * 1e6,
    };
    // A coordinator polls each unfinished job's state (src/queue/coordinator.ts): the cost of one poll.
    const polled = jobId(runId, 'polled');
    await queue.add('polled', data(0), { jobId: polled });
    const p0 = await stats();
    const tp = performance.now();
    const polls = reps * 20;
    for (let i = 0; i < polls; i++) await queue.getJobState(polled);
    pollMs = (performance.now() - tp) / polls;
    const p1 = await stats();
    pollCommands = (p1.commands - p0.commands - 1) / polls;
    pollCpuUs = ((p1.cpuS - p0.cpuS) / polls) * 1e6;
    await queue.remove(polled);
    // Memory of jobs waiting in the queue.
    const m0 = (await stats()).memory;
    for (let i = 0; i < reps; i++) await queue.add(`held-${i}`, data(i), { jobId: jobId(runId, `held-${i}`), attempts: 3, removeOnComplete: false, removeOnFail: false });
    const m1 = (await stats()).memory;
    queuedJobBytes = (m1 - m0) / reps;
  } finally {
    await worker.close();
    await queue.close();
    admin.disconnect();
    await server.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const redis = { addMs: median(times.add), fetchMs: median(times.fetch), completeMs: median(times.complete), collectMs: median(times.collect) };
  const pieces = { serializeMs, ...redis, decodeMs, mergeMs };
  const overheadMs = Object.values(pieces).reduce((a, b) => a + b, 0);
  const r3 = (x: number) => +x.toFixed(3);
  const result = {
    model: 'gpt2-small (random)',
    interventions: 'delete,swap',
    plans: plans.length,
    job: { windows: nWindows, seq, tokens, payloadBytes: encodeJob(payload).length, payloadBase64Bytes: payloadText.length, stateBytes: state.length, stateBase64Bytes: stateText.length },
    computeMs: Math.round(computeMs),
    computeCpuMs: Math.round(computeCpuMs),
    tokensPerSecond: +((tokens / computeMs) * 1000).toFixed(1),
    reps,
    pieces: Object.fromEntries(Object.entries(pieces).map(([k, v]) => [k, r3(v)])),
    overheadMs: r3(overheadMs),
    /** Queue overhead as a fraction of the job's compute (aim < 0.02). */
    overheadFraction: +(overheadMs / computeMs).toPrecision(3),
    /** The same against the job's CPU time (steadier on a shared machine: compute wall time there includes waiting for a core). */
    overheadFractionOfCpu: +(overheadMs / computeCpuMs).toPrecision(3),
    redisPerJob: { commands: +traffic.commands.toFixed(1), bytesIn: Math.round(traffic.netIn), bytesOut: Math.round(traffic.netOut), cpuUs: Math.round(traffic.cpuUs), queuedJobBytes: Math.round(queuedJobBytes) },
    /** One poll of a job's state by the coordinator (every unfinished job, every 500 ms). */
    pollPerJob: { commands: +pollCommands.toFixed(1), ms: r3(pollMs), cpuUs: +pollCpuUs.toFixed(1) },
  };
  log(`  overhead ${overheadMs.toFixed(1)} ms per job = ${(100 * result.overheadFraction).toFixed(3)}% of its ${(computeMs / 1000).toFixed(1)} s compute; ` +
    `${result.redisPerJob.commands} Redis commands (${result.redisPerJob.cpuUs} µs of Redis CPU), ${result.redisPerJob.bytesIn} B in / ${result.redisPerJob.bytesOut} B out, ${result.redisPerJob.queuedJobBytes} B while queued; a state poll ${result.pollPerJob.cpuUs} µs of Redis CPU`);
  return result;
}
