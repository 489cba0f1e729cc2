/**
 * Executes one job payload on a model and returns its finished state (compact binary): the one code path
 * of a job, whether it runs in the run's own process (src/runs/job-runner.ts) or on a queue worker
 * (src/queue/compute-process.ts). The payload carries everything the job reads besides the model.
 */
import type { Model } from '../model/model.js';
import type { JobPayload } from './jobs.js';
import type { PartialStore } from './job-runner.js';
import { executeSweepJob } from './sweep-job.js';
import { executeStreamJob } from './stream-job.js';

export interface JobProgress {
  /** Progress units of this job done (plan runs or batches, resumed ones included) and its tokens done. */
  unitsDone: number;
  tokensDone: number;
  /** True when a batch just finished (the stage analyses' onBatch hook fires then). */
  batchDone: boolean;
}

export interface ExecuteHooks {
  /** The job's name: partial state is kept as `<name>-partial`. */
  name: string;
  /** Partial state of an interrupted attempt (the run folder in-process; absent on a worker, where the job is the unit of retry). */
  partial?: PartialStore;
  saveEverySeconds?: number;
  log?: (msg: string) => void;
  onProgress?: (p: JobProgress) => void;
}

export function executeJob(model: Model, payload: JobPayload, hooks: ExecuteHooks): Uint8Array {
  switch (payload.kind) {
    case 'sweep':
      return executeSweepJob(model, payload, hooks);
    case 'stages':
      return executeStreamJob(model, payload, hooks);
  }
}
