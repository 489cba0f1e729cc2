/**
 * The sweep's per-plan metrics under the analysis contract (src/analyses/contract.ts, kind 'plans'):
 * the engine hands it each batch's baseline and, per plan, chunks of intervened logits; its state (one
 * baseline and one accumulator per plan) serializes compactly and merges across data shards; its
 * result is metrics.json's flat rows.
 */
import type { PlanAnalysis } from '../analyses/contract.js';
import { METRICS_JSON, RESULT_SCHEMAS } from '../results/run-files.js';
import { decodeState, encodeState } from '../results/state-codec.js';
import { BaselineAccumulator, PlanAccumulator } from './metrics.js';

export interface SweepMetricsState {
  baseline: BaselineAccumulator;
  /** One per plan, in the order of the plans given to `init`. */
  plans: PlanAccumulator[];
}

type Encoded = { baseline: ReturnType<BaselineAccumulator['toJSON']>; plans: ReturnType<PlanAccumulator['toJSON']>[] };

export const sweepMetricsAnalysis: PlanAnalysis<SweepMetricsState> = {
  kind: 'plans', name: 'sweep', file: METRICS_JSON, schema: RESULT_SCHEMAS[METRICS_JSON], figure: 'robustness',
  init: (plans) => ({ baseline: new BaselineAccumulator(), plans: Array.from({ length: plans }, () => new PlanAccumulator()) }),
  addBaseline: (s, base) => s.baseline.addBatch(base),
  addRows: (s, plan, base, logits, r0, n) => s.plans[plan].addRows(base, logits, r0, n),
  merge: (a, b) => ({ baseline: a.baseline.merge(b.baseline), plans: a.plans.map((p, i) => p.merge(b.plans[i])) }),
  encode: (s) => encodeState({ baseline: s.baseline.toJSON(), plans: s.plans.map((p) => p.toJSON()) } satisfies Encoded),
  decode: (bytes) => {
    const e = decodeState<Encoded>(bytes);
    return { baseline: BaselineAccumulator.fromJSON(e.baseline), plans: e.plans.map((p) => PlanAccumulator.fromJSON(p)) };
  },
};
