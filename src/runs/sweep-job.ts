/**
 * One sweep job: a plan subtree over one data shard, run by the sweep engine from its payload alone, and
 * its finished state (baseline and per-plan accumulators, the sweep metrics' own compact encoding).
 */
import type { Model } from '../model/model.js';
import { runSweep, type SweepState } from '../sweep/engine.js';
import type { BaselineAccumulator, PlanAccumulator } from '../sweep/metrics.js';
import { sweepMetricsAnalysis } from '../sweep/metrics-analysis.js';
import type { ExecuteHooks } from './execute-job.js';
import { unpackWindows, type SweepJobPayload } from './jobs.js';

/** A finished job's accumulator states, compact binary (the sweep metrics' own encoding). */
export function encodeSweepJob(baseline: BaselineAccumulator, plans: PlanAccumulator[]): Uint8Array {
  return sweepMetricsAnalysis.encode({ baseline, plans });
}

export function executeSweepJob(model: Model, payload: SweepJobPayload, hooks: ExecuteHooks): Uint8Array {
  const partialName = `${hooks.name}-partial`;
  const state = hooks.partial?.loadState<SweepState>(partialName);
  if (state) hooks.log?.(`resuming {run}: ${state.batches_done} of ${state.batches} batches done`);
  const outcome = runSweep(model, payload.plans, unpackWindows(payload.windows), {
    ...payload.options,
    state,
    onBatch: (st) => {
      if (st.batches_done < st.batches) hooks.partial?.saveState(partialName, st);
    },
    onProgress: (p) => hooks.onProgress?.({ unitsDone: p.planRunsDone, tokensDone: p.tokensDone, batchDone: false }),
  });
  return encodeSweepJob(outcome.baseline, outcome.plans);
}
