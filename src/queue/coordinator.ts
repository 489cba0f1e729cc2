/**
 * The queue coordinator: the JobRunner a command gets with `--queue URL` (src/runs/job-runner.ts). The
 * command itself reads and tokenizes the data once and builds the run's jobs as in-process; this runner
 * enqueues the unfinished ones on the BullMQ queue with ids derived from the run key (so running the same
 * command again finds them: queued, running or finished), registers the run in RUNS_KEY, and collects the
 * results: each finished job's state is saved in the run folder the moment it is seen and the job is
 * removed from Redis, so a coordinator killed at any point loses no finished work and a restart
 * recomputes nothing. The run then merges the saved states in its fixed order, exactly as in-process.
 *
 * Polling (every POLL_MS) rather than events: a poll survives coordinator restarts and Redis restarts
 * alike. A poll reads BullMQ's completed and failed sets (two commands, whatever the number of jobs; the
 * sets stay small because every coordinator removes the jobs it collected); the state of each unfinished
 * job is read only every STATE_CHECK_MS, to find jobs that vanished from Redis (a restart without its
 * AOF, `layerlab queue clean`) and queue them again. So the Redis load of a waiting coordinator does not
 * grow with its number of jobs (docs/distributed.md, sizing). While Redis does not answer, the coordinator
 * waits up to REDIS_GRACE_MS (a restart with AOF keeps the queue: the run continues), then stops with one
 * line; the same command resumes. A job that failed (after its attempts, or refused by a worker) fails
 * the run with the worker's message; running the command again retries it.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { Model } from '../model/model.js';
import type { JobRunner, RunJob } from '../runs/job-runner.js';
import { LayerlabError } from '../util/errors.js';
import { ProgressBar } from '../util/progress.js';
import { connectRedis, parseQueueUrl, redisError } from './redis-url.js';
import { jobsQueue } from './queue-admin.js';
import { parseRecord, WorkerHeartbeatSchema } from './records.js';
import { jobId, RUNS_KEY, runIdFromKey, WORKER_LIVE_MS, WORKERS_KEY, type RunRecord } from './names.js';
import { decodeResult, encodePayload, modelRefText, type ModelRef, type QueueJobData } from './job-codec.js';
import { modelDigest } from './model-digest.js';
import { JOB_ATTEMPTS, RETRY_DELAY_MS } from './stall.js';

const POLL_MS = 500;
/** How often the state of every unfinished job is read (jobs that vanished from Redis are queued again). */
const STATE_CHECK_MS = 15_000;
/** How long Redis may be unreachable before the run stops (LAYERLAB_QUEUE_TEST_GRACE_MS shortens it, test-only). */
const REDIS_GRACE_MS = 60_000;
/** A single Redis command that takes longer than this counts as Redis not answering. */
const COMMAND_TIMEOUT_MS = 5_000;

/** How a worker finds the coordinator's model: its Hub id at the loaded commit, or its folder's name. */
export function modelRefOf(model: Model): ModelRef {
  const s = model.source;
  if (s.modelId) return { hub: s.modelId, revision: s.commit ?? s.revision ?? 'main' };
  const folder = resolve(s.dir).split(/[\\/]/).filter(Boolean).at(-1) ?? '';
  return { folder };
}

function timed<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

/** Connects (one-line error, exit 2, on an unreachable Redis or a wrong password) and returns the runner. */
export async function openQueueRunner(url: string, model: Model): Promise<JobRunner> {
  const target = parseQueueUrl(url);
  const redis: Redis = await connectRedis(target);
  redis.on('error', () => { /* seen by the poll loop as failed commands */ });
  const queue = jobsQueue(redis);
  const ref = modelRefOf(model);
  const digest = modelDigest(model.source.dir);
  const dtype = model.dtype ?? 'f32';
  const graceMs = Number(process.env.LAYERLAB_QUEUE_TEST_GRACE_MS ?? 0) || REDIS_GRACE_MS;
  // One unanswered command must not outlast the grace period (a short one in tests).
  const commandTimeoutMs = Math.min(COMMAND_TIMEOUT_MS, graceMs);
  const fail = (e: unknown) => (e instanceof LayerlabError ? e : redisError(target, e as Error));

  return {
    description: { where: 'queue', queue: target.display, model_ref: modelRefText(ref), model_digest: digest, dtype },
    async close() {
      await queue.close().catch(() => undefined);
      redis.disconnect();
    },
    async runJobs(jobs, store, opts) {
      const runId = runIdFromKey({ key: opts.key, out: resolve(opts.out) });
      const pending = new Map<string, RunJob>();
      for (const j of jobs) if (!store.finished(j.name)) pending.set(jobId(runId, j.name), j);
      const total = { jobs: jobs.length, tokens: jobs.reduce((n, j) => n + j.tokens, 0) };
      const done = { jobs: jobs.length - pending.size, tokens: jobs.reduce((n, j) => n + (store.finished(j.name) ? j.tokens : 0), 0) };
      const say = (m: string) => { if (opts.progress !== false) process.stderr.write(`layerlab: ${m}\n`); };
      say(`${opts.command}: run ${runId} on ${target.display}: ${pending.size} of ${jobs.length} jobs to do (model digest ${digest.slice(0, 16)})`);
      if (jobs.length === 1) say(`${opts.command}: this run is a single job (a corpus within one shard); --shard-docs N splits it for several workers`);
      if (pending.size === 0) return;

      const record: RunRecord = {
        run_id: runId, command: opts.command, model: modelRefText(ref), model_digest: digest, created_at: new Date().toISOString(), jobs: jobs.length,
        coordinator: { host: hostname(), pid: process.pid },
      };
      const enqueue = async (id: string, job: RunJob) => {
        const data: QueueJobData = {
          format: 1, run_id: runId, job: job.name, describe: job.describe, model: ref, model_digest: digest, dtype, payload: encodePayload(job.payload()),
        };
        await queue.add(job.name, data, { jobId: id, attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: RETRY_DELAY_MS }, removeOnComplete: false, removeOnFail: false });
      };
      try {
        await timed(redis.hset(RUNS_KEY, runId, JSON.stringify(record)), commandTimeoutMs);
        let queued = 0, found = 0;
        for (const [id, job] of pending) {
          const state = await timed(queue.getJobState(id), commandTimeoutMs);
          // A job that failed in an earlier attempt of this command is tried again.
          if (state === 'failed') await (await queue.getJob(id))?.remove();
          if (state === 'unknown' || state === 'failed') {
            await timed(enqueue(id, job), commandTimeoutMs);
            queued++;
          } else found++;
        }
        say(`${opts.command}: queued ${queued} jobs${found ? `, found ${found} already queued, running or finished` : ''}`);
      } catch (e) {
        throw fail(e);
      }

      const bar = opts.progress === false ? undefined : new ProgressBar(opts.command, 'jobs');
      let workers = 0, lastWorkers = 0, downSince = 0, lastStateCheck = Date.now();
      const show = () => bar?.update({ done: done.jobs, total: total.jobs, detail: `${done.tokens.toLocaleString('en-US')}/${total.tokens.toLocaleString('en-US')} tokens, ${workers} worker${workers === 1 ? '' : 's'} live` });
      show();
      while (pending.size > 0) {
        try {
          if (Date.now() - lastWorkers > 2000) {
            const beats = Object.values(await timed(redis.hgetall(WORKERS_KEY), commandTimeoutMs));
            workers = beats.filter((b) => {
              const hb = parseRecord(WorkerHeartbeatSchema, b);
              return hb !== undefined && Date.now() - Date.parse(hb.seen_at) < WORKER_LIVE_MS;
            }).length;
            lastWorkers = Date.now();
          }
          // Two set reads per poll; every job's own state only every STATE_CHECK_MS.
          const checkAll = Date.now() - lastStateCheck > STATE_CHECK_MS;
          const [completed, failed] = checkAll ? [undefined, undefined] : await Promise.all([
            timed(redis.zrange(queue.keys.completed, '0', '-1'), commandTimeoutMs),
            timed(redis.zrange(queue.keys.failed, '0', '-1'), commandTimeoutMs),
          ]).then(([c, f]) => [new Set(c), new Set(f)]);
          for (const [id, job] of [...pending]) {
            const state = checkAll ? await timed(queue.getJobState(id), commandTimeoutMs)
              : completed!.has(id) ? 'completed' : failed!.has(id) ? 'failed' : 'pending';
            if (state === 'completed') {
              const q = await timed(queue.getJob(id), commandTimeoutMs);
              if (!q) continue;
              store.saveFinished(job.name, decodeResult(q.returnvalue));
              await timed(q.remove(), commandTimeoutMs);
              pending.delete(id);
              done.jobs++;
              done.tokens += job.tokens;
              opts.onUnits?.(done.jobs, total.jobs);
            } else if (state === 'failed') {
              const q = await timed(queue.getJob(id), commandTimeoutMs);
              throw new LayerlabError(`job ${job.name} (${job.describe}) failed after ${q?.attemptsMade ?? '?'} attempt(s): ${q?.failedReason ?? 'no reason given'}; run the same command again to retry it`);
            } else if (state === 'unknown') {
              // Gone from Redis (restarted without its AOF, or removed by `layerlab queue clean`): queue it again.
              say(`job ${job.name} is no longer in the queue; queueing it again`);
              await timed(enqueue(id, job), commandTimeoutMs);
            }
          }
          if (checkAll) lastStateCheck = Date.now();
          if (downSince) say(`Redis at ${target.display} answers again; continuing`);
          downSince = 0;
        } catch (e) {
          if (e instanceof LayerlabError) throw e;
          if (!downSince) {
            downSince = Date.now();
            say(`Redis at ${target.display} does not answer (${(e as Error).message}); waiting up to ${Math.round(graceMs / 1000)} s`);
          } else if (Date.now() - downSince > graceMs) {
            throw new LayerlabError(`${redisError(target, e as Error).message}; the ${done.jobs} finished jobs are saved in ${opts.out}: run the same command again to resume`);
          }
        }
        show();
        if (pending.size > 0) await new Promise((r) => setTimeout(r, POLL_MS));
      }
      try {
        await timed(redis.hdel(RUNS_KEY, runId), commandTimeoutMs);
      } catch { /* the run is finished; a stale record is harmless (queue clean removes it) */ }
    },
  };
}
