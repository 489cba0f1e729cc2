/**
 * One batch through the model with every streaming analysis's hooks registered together: the one forward
 * that the stage runner's data-shard jobs and the own-corpus runs (src/analyses/own-corpus.ts) share.
 */
import { forward } from '../model/forward.js';
import type { ForwardOutputs, StageContext, StreamBatch, StreamingAnalysis } from './contract.js';

export function streamBatch(ctx: StageContext, analyses: StreamingAnalysis[], states: unknown[], batch: StreamBatch): void {
  const L = ctx.model.config.nLayers;
  const points: Float32Array[] = new Array(L + 1);
  const hooks = analyses.flatMap((a, i) => a.hooks?.(states[i], batch) ?? []);
  if (analyses.some((a) => a.needs.residuals)) {
    // The residual arrays are fresh per block (the executor never reuses them), so references suffice.
    hooks.push({ name: 'blocks.0.hook_resid_pre', fn: (t) => void (points[0] = t.data) });
    hooks.push({ name: 'blocks.*.hook_resid_post', fn: (t, hc) => void (points[hc.slot! + 1] = t.data) });
  }
  const wantLogits = analyses.some((a) => a.needs.logits?.(batch, ctx));
  const res = forward(ctx.model, { ids: batch.ids, batch: batch.batch, seq: batch.seq }, { hooks, skipLogits: !wantLogits });
  const out: ForwardOutputs = { points, logits: res.logits?.data };
  analyses.forEach((a, i) => a.add(states[i], batch, out, ctx));
}
