import { Queue, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOBS_QUEUE, QUEUE_PREFIX, RUNS_KEY, WORKER_LIVE_MS, WORKERS_KEY, runIdOfJob, type RunRecord, type WorkerHeartbeat } from './names.js';
import { parseRecord, RunRecordSchema, WorkerHeartbeatSchema } from './records.js';

/**
 * What `layerlab queue status` and `queue clean` do, on a connected client: read the run records, count
 * each run's BullMQ jobs by state (a job belongs to a run by its id prefix, names.ts `jobId`), list the
 * workers' heartbeats, and remove one run's jobs and record.
 */

/** The four states shown; BullMQ's waiting-like states (prioritized, delayed, waiting for children) count as waiting. */
export type JobCounts = { waiting: number; active: number; completed: number; failed: number };
type Shown = keyof JobCounts;

/** BullMQ states read, each with the column it counts in. A job seen in two states (moving) counts in the later one. */
const STATES: [JobType, Shown][] = [
  ['waiting', 'waiting'], ['prioritized', 'waiting'], ['delayed', 'waiting'], ['waiting-children', 'waiting'],
  ['active', 'active'], ['failed', 'failed'], ['completed', 'completed'],
];

export interface RunStatus {
  run_id: string;
  /** The coordinator's record; null for jobs whose run has no (valid) record. */
  record: RunRecord | null;
  counts: JobCounts;
}

export interface WorkerStatus extends WorkerHeartbeat {
  live: boolean;
  seen_s_ago: number;
}

export interface QueueStatus {
  runs: RunStatus[];
  workers: WorkerStatus[];
  /** Jobs in the queue whose id is not `<run id>.<name>` (not layerlab's). */
  other_jobs: number;
}

/** The jobs queue on an existing connection (BullMQ leaves a shared connection open when the queue closes). */
export function jobsQueue(redis: Redis): Queue {
  const q = new Queue(JOBS_QUEUE, { connection: redis, prefix: QUEUE_PREFIX });
  q.on('error', () => {}); // commands reject with the same error; no unhandled 'error' event
  return q;
}

/** Every job id in the queue with the state it is shown in. */
async function jobStates(queue: Queue): Promise<Map<string, Shown>> {
  const states = new Map<string, Shown>();
  for (const [type, shown] of STATES) for (const id of await queue.getRanges([type], 0, -1)) states.set(id, shown);
  return states;
}

const zero = (): JobCounts => ({ waiting: 0, active: 0, completed: 0, failed: 0 });

export async function queueStatus(redis: Redis, now = Date.now()): Promise<QueueStatus> {
  const queue = jobsQueue(redis);
  try {
    const runs = new Map<string, RunStatus>();
    for (const [id, text] of Object.entries(await redis.hgetall(RUNS_KEY)))
      runs.set(id, { run_id: id, record: parseRecord(RunRecordSchema, text) ?? null, counts: zero() });
    let other = 0;
    for (const [id, shown] of await jobStates(queue)) {
      const run = runIdOfJob(id);
      if (run === undefined) {
        other++;
        continue;
      }
      if (!runs.has(run)) runs.set(run, { run_id: run, record: null, counts: zero() });
      runs.get(run)!.counts[shown]++;
    }
    const workers: WorkerStatus[] = [];
    for (const text of Object.values(await redis.hgetall(WORKERS_KEY))) {
      const hb = parseRecord(WorkerHeartbeatSchema, text);
      if (!hb) continue;
      const seen = Date.parse(hb.seen_at);
      const age = Number.isFinite(seen) ? Math.max(0, now - seen) : Infinity;
      workers.push({ ...hb, live: age < WORKER_LIVE_MS, seen_s_ago: Number.isFinite(age) ? Math.round(age / 1000) : -1 });
    }
    const created = (r: RunStatus) => r.record?.created_at ?? '';
    return {
      runs: [...runs.values()].sort((a, b) => created(a).localeCompare(created(b)) || a.run_id.localeCompare(b.run_id)),
      workers: workers.sort((a, b) => a.worker_id.localeCompare(b.worker_id)),
      other_jobs: other,
    };
  } finally {
    await queue.close();
  }
}

export interface CleanResult {
  /** False when the run had neither a record nor a job. */
  found: boolean;
  removed: JobCounts;
  /** Active jobs a worker still holds (locked): BullMQ will not remove them until they finish or their lock expires. */
  kept_active: number;
  /** Whether the run's record was removed (only once no job of the run is left). */
  record_removed: boolean;
}

/** Removes a run's jobs in every state, then its record, unless a worker still holds one of its jobs. */
export async function cleanRun(redis: Redis, runId: string): Promise<CleanResult> {
  const queue = jobsQueue(redis);
  try {
    const hasRecord = (await redis.hexists(RUNS_KEY, runId)) === 1;
    const mine = [...(await jobStates(queue))].filter(([id]) => runIdOfJob(id) === runId);
    const removed = zero();
    let kept = 0;
    for (const [id, shown] of mine) {
      if ((await queue.remove(id)) === 1) removed[shown]++;
      else if ((await queue.getJobState(id)) !== 'unknown') kept++; // locked by a worker
    }
    const recordRemoved = hasRecord && kept === 0 && (await redis.hdel(RUNS_KEY, runId)) === 1;
    return { found: hasRecord || mine.length > 0, removed, kept_active: kept, record_removed: recordRemoved };
  } finally {
    await queue.close();
  }
}
