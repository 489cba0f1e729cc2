/**
 * The one job-execution seam of long runs (sweep, stages, paper): a run builds its jobs (payloads from
 * src/runs/jobs.ts) and hands them to a `JobRunner`, which executes the unfinished ones and saves each
 * finished job's state bytes into the run folder as it arrives; the run then merges the saved states in
 * its fixed order. Two runners exist: `inProcessRunner` (below: the jobs run here, one after the other,
 * checkpointing inside a job) and the queue coordinator (src/queue/coordinator.ts: the same payloads go
 * to `layerlab worker` processes through BullMQ). Runs know nothing of Redis: the numbers depend only on
 * the payloads, never on the runner.
 */
import type { Model } from '../model/model.js';
import type { ResumableRun } from '../results/resumable-run.js';
import { ProgressBar } from '../util/progress.js';
import { executeJob } from './execute-job.js';
import type { JobPayload } from './jobs.js';
import { jobOrder } from './shards.js';

/** One job of a run. */
export interface RunJob {
  /** Name of its finished state in the run folder (`.state/<name>.bin`) and of its queue job. */
  name: string;
  /** Built when the job is to run (the windows are copied only then). */
  payload: () => JobPayload;
  /** Progress units (plan runs for the sweep, batches for the stage analyses) and non-BOS tokens. */
  units: number;
  tokens: number;
  /** For logs: "shard 3 of 8, plans starting at block 0". */
  describe: string;
}

/** Where partial state of a running job is kept between batches (the run folder; nothing on a worker). */
export type PartialStore = Pick<ResumableRun, 'loadState' | 'saveState' | 'loadStateBytes' | 'saveStateBytes'>;

/** The run folder as the runners see it. */
export interface JobStore {
  /** The finished state of a job, or undefined. */
  finished(name: string): Uint8Array | undefined;
  saveFinished(name: string, bytes: Uint8Array): void;
  partial: PartialStore;
}

/** What a run tells its runner besides the jobs. */
export interface RunJobsOptions {
  /** 'sweep' or 'stages' (progress label, queue run record). */
  command: string;
  /** The run's key (src/results/resumable-run.ts): the queue derives its run and job ids from it. */
  key: unknown;
  /** The run folder (logs, and part of the queue run id). */
  out: string;
  /** Progress unit of `RunJob.units`. */
  unit: string;
  progress?: boolean;
  /** Test hook (in-process only): the order jobs execute in. */
  order?: (n: number) => number[];
  /** Called after each batch (in-process) or each collected job (queue) with units done and total. */
  onUnits?: (done: number, total: number) => void;
  /** Seconds between checkpoints of a running job (in-process stage analyses; default 5). */
  saveEverySeconds?: number;
}

export interface JobRunner {
  /** Recorded in the run's manifest (`execution`). */
  readonly description: Record<string, unknown>;
  /** Runs every job whose state is not yet in the store; resolves once all are saved there. */
  runJobs(jobs: RunJob[], store: JobStore, opts: RunJobsOptions): Promise<void>;
  /** Releases what the runner holds (the queue's connection); the command calls it once at the end. */
  close?(): Promise<void>;
}

/** Today's behaviour: the jobs run in this process, one after the other, resuming a job's partial state. */
export function inProcessRunner(model: Model): JobRunner {
  return {
    description: { where: 'in-process' },
    async runJobs(jobs, store, opts) {
      const total = jobs.reduce((n, j) => n + j.units, 0);
      let before = jobs.reduce((n, j) => n + (store.finished(j.name) ? j.units : 0), 0);
      const bar = opts.progress === false ? undefined : new ProgressBar(opts.command, opts.unit);
      for (const k of jobOrder(jobs.length, opts.order)) {
        const job = jobs[k];
        if (store.finished(job.name)) continue;
        const bytes = executeJob(model, job.payload(), {
          name: job.name,
          partial: store.partial,
          saveEverySeconds: opts.saveEverySeconds,
          log: (m) => { if (opts.progress !== false) process.stderr.write(`layerlab: ${m.replace('{run}', opts.out)}\n`); },
          onProgress: (p) => {
            bar?.update({ done: before + p.unitsDone, total, detail: `job ${k + 1}/${jobs.length}, ${p.tokensDone.toLocaleString('en-US')}/${job.tokens.toLocaleString('en-US')} tokens of this job` });
            if (p.batchDone) opts.onUnits?.(before + p.unitsDone, total);
          },
        });
        store.saveFinished(job.name, bytes);
        before += job.units;
      }
    },
  };
}
