import { forward } from './forward.js';
import type { ModelLike } from './executor.js';

/**
 * Greedy decoding with full recomputation at each step (no KV cache): the plan applies to every step,
 * and results equal a fresh forward over the whole sequence. Returns only the new tokens.
 */
export function greedyGenerate(model: ModelLike, prompt: number[], maxNew: number, opts: { plan?: readonly number[]; stopAt?: number } = {}): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  const V = model.config.vocabSize;
  for (let step = 0; step < maxNew && ids.length < model.config.nCtx; step++) {
    const T = ids.length;
    const res = forward(model, { ids: Int32Array.from(ids), batch: 1, seq: T }, { plan: opts.plan });
    const last = res.logits!.data.subarray((T - 1) * V, T * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
    if (opts.stopAt !== undefined && best === opts.stopAt) break;
    ids.push(best);
    out.push(best);
  }
  return out;
}
