import { z } from 'zod';
import type { RunRecord, WorkerHeartbeat } from './names.js';

/**
 * Validators of what coordinators and workers write beside the BullMQ keys (RUNS_KEY, WORKERS_KEY). Anyone
 * with access to the Redis can write there, so readers validate instead of trusting the JSON.
 */

const int = z.number().int().nonnegative();

export const RunRecordSchema: z.ZodType<RunRecord> = z.object({
  run_id: z.string().regex(/^[0-9a-f]{16}$/),
  command: z.string(),
  model: z.string(),
  model_digest: z.string(),
  created_at: z.string(),
  jobs: int,
  coordinator: z.object({ host: z.string(), pid: int }),
});

export const WorkerHeartbeatSchema: z.ZodType<WorkerHeartbeat> = z.object({
  worker_id: z.string(),
  host: z.string(),
  pid: int,
  started_at: z.string(),
  seen_at: z.string(),
  concurrency: int,
  threads: int,
  models_loaded: z.array(z.string()),
  current_job: z.string().nullable(),
});

/** The record parsed and checked, or undefined when the text is not a valid one. */
export function parseRecord<T>(schema: z.ZodType<T>, text: string): T | undefined {
  try {
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
