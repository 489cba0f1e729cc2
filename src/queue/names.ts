import { createHash } from 'node:crypto';

/**
 * The names every coordinator, worker and `layerlab queue` command agrees on. BullMQ keys are
 * `${QUEUE_PREFIX}:${JOBS_QUEUE}:...`; the run records and worker heartbeats live beside them.
 */

/** BullMQ `prefix` option. */
export const QUEUE_PREFIX = 'layerlab';

/** The one BullMQ queue every run's jobs go to; every worker listens to it. */
export const JOBS_QUEUE = 'jobs';

/** Redis hash: field = run id, value = JSON `RunRecord`. */
export const RUNS_KEY = 'layerlab:runs';

/** Redis hash: field = worker id (`host:pid`), value = JSON `WorkerHeartbeat`, refreshed every 5 s. */
export const WORKERS_KEY = 'layerlab:workers';

/** How often a worker refreshes its heartbeat, and how old one may be for the worker to count as live. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const WORKER_LIVE_MS = 30_000;

/** What the coordinator records about a run (snake_case, as every JSON layerlab writes). */
export interface RunRecord {
  run_id: string;
  command: string;
  model: string;
  model_digest: string;
  created_at: string;
  jobs: number;
  coordinator: { host: string; pid: number };
}

/** What a worker publishes about itself. */
export interface WorkerHeartbeat {
  worker_id: string;
  host: string;
  pid: number;
  started_at: string;
  seen_at: string;
  concurrency: number;
  threads: number;
  models_loaded: string[];
  current_job: string | null;
}

/** JSON with object keys sorted at every level, so equal keys give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v);
}

/** A run's id: the first 16 hex digits of sha256(canonical JSON of its key). Same run key, same id. */
export function runIdFromKey(key: unknown): string {
  return createHash('sha256').update(canonicalJson(key), 'utf8').digest('hex').slice(0, 16);
}

/** The BullMQ job id of a run's job; BullMQ ids may not contain ':' (its key separator). */
export function jobId(runId: string, jobName: string): string {
  if (runId.includes(':') || jobName.includes(':')) throw new Error(`job id parts may not contain ':' (${runId}, ${jobName})`);
  return `${runId}.${jobName}`;
}

/** The run id of a job id made by `jobId`, or undefined for ids of another shape. */
export function runIdOfJob(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const dot = id.indexOf('.');
  return dot > 0 ? id.slice(0, dot) : undefined;
}
