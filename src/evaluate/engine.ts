/**
 * Scores requests (context + continuation token sequences) under many layer plans at once.
 *
 * What is shared ('trie', the default): requests are grouped into units of whole items (every choice of
 * a multiple-choice item in the same unit) and each unit runs as one right-padded batch through the trie
 * of plans (src/sweep/plan-trie.ts): a plan continues from the residual stream of its longest prefix
 * shared with the plans already run, so each block of a shared prefix runs once per unit for all plans.
 * The choices of an item run side by side in that batch (one GEMM per block for all of them), and only
 * the positions that score a continuation token are normalized... unembedded and log-softmaxed (not the
 * context positions). There is no KV cache in the executor, so a choice's context tokens are still
 * computed in its own row: the context is shared across plans, not across the choices of an item.
 * - 'recompute': the same units, every plan run from the embedding (numbers identical to 'trie').
 * - 'naive': one full forward (all positions unembedded) per (request, plan): what one lm-eval run per
 *   modified model costs; the reference of the benchmark and of the equality tests.
 * Right-padding cannot change a real position (causal attention), and padded positions are never scored.
 */
import { Executor, type ModelLike } from '../model/executor.js';
import { defaultPlan, forward } from '../model/forward.js';
import { runTrieBatch } from '../sweep/engine.js';
import { PlanTrie } from '../sweep/plan-trie.js';
import type { ScoredRequest } from './requests.js';

export type EvalStrategy = 'trie' | 'recompute' | 'naive';

export interface UnitScores {
  /** [plan][request of the unit]: summed natural-log log-likelihood of the continuation. */
  ll: number[][];
  /** [plan][request]: 1 when every continuation token is the argmax at its position (ties: lowest id). */
  greedy: number[][];
}

export interface ScoreOptions {
  strategy?: EvalStrategy;
  /** Memory for cached residual streams of shared prefixes ('trie'); default 512 MiB. */
  prefixCacheBytes?: number;
  /** Memory for one chunk of logits (rows x vocab floats); default 64 MiB. */
  logitsChunkBytes?: number;
  /** Counts of work done, added to. */
  stats?: { blocks: number; unembedRows: number };
}

/**
 * Units of work: whole items (all their requests), longest first (then file order), grouped while
 * requests x longest input <= maxBatchTokens and every input is at least 3/4 of the longest (little
 * padding); at least one item per unit. Deterministic for the same requests, so a resumed run redoes
 * exactly the same units.
 */
export function evalUnits(requests: readonly ScoredRequest[], maxBatchTokens: number): number[][] {
  const byItem = new Map<number, number[]>();
  requests.forEach((r, i) => byItem.set(r.item, [...(byItem.get(r.item) ?? []), i]));
  const items = [...byItem.entries()].map(([item, reqs]) => ({ item, reqs, len: Math.max(...reqs.map((i) => requests[i].input.length)), min: Math.min(...reqs.map((i) => requests[i].input.length)) }));
  items.sort((a, b) => b.len - a.len || a.item - b.item);
  const units: number[][] = [];
  for (let i = 0; i < items.length; ) {
    const seq = items[i].len;
    const unit = [...items[i++].reqs];
    while (i < items.length && (unit.length + items[i].reqs.length) * seq <= maxBatchTokens && 4 * items[i].min >= 3 * seq) unit.push(...items[i++].reqs);
    units.push(unit);
  }
  return units;
}

/** Scores `requests` (one unit) under every plan. Plans must be distinct. */
export function scoreUnit(model: ModelLike, plans: readonly (readonly number[])[], requests: readonly ScoredRequest[], opts: ScoreOptions = {}): UnitScores {
  const out: UnitScores = { ll: plans.map(() => new Array<number>(requests.length).fill(0)), greedy: plans.map(() => new Array<number>(requests.length).fill(1)) };
  const stats = opts.stats ?? { blocks: 0, unembedRows: 0 };
  const strategy = opts.strategy ?? 'trie';
  if (strategy === 'naive') {
    naive(model, plans, requests, out, stats);
    return out;
  }
  const c = model.config, D = c.dModel, V = c.vocabSize;
  const B = requests.length, T = Math.max(...requests.map((r) => r.input.length));
  const ids = new Int32Array(B * T);
  requests.forEach((r, b) => {
    ids.fill(r.input[0], b * T, (b + 1) * T);
    ids.set(r.input, b * T);
  });
  // The rows that score continuation tokens: row b*T + scoreFrom + k predicts continuationTokens[k].
  const rowOf: number[] = [], reqOf: number[] = [], target: number[] = [];
  requests.forEach((r, b) => r.continuationTokens.forEach((tok, k) => {
    rowOf.push(b * T + r.scoreFrom + k);
    reqOf.push(b);
    target.push(tok);
  }));
  const S = rowOf.length;
  const chunkRows = Math.max(1, Math.min(S, Math.floor((opts.logitsChunkBytes ?? 64 * 2 ** 20) / (V * 4))));
  const gathered = new Float32Array(S * D);
  const logits = new Float32Array(chunkRows * V);
  const lse = new Float64Array(chunkRows), amax = new Int32Array(chunkRows);
  const ex = new Executor(model, B, T);
  const block = (r: Float32Array, layer: number, slot: number) => {
    stats.blocks++;
    return ex.block(r, layer, slot);
  };
  const evaluate = (resid: Float32Array, targets: readonly number[]) => {
    if (targets.length === 0) return;
    const normed = ex.finalNorm(resid);
    for (let s = 0; s < S; s++) gathered.set(normed.subarray(rowOf[s] * D, rowOf[s] * D + D), s * D);
    // Every plan ending here has the same final residual; score once and copy.
    const [first, ...rest] = targets;
    for (let s0 = 0; s0 < S; s0 += chunkRows) {
      const n = Math.min(chunkRows, S - s0);
      ex.unembed(gathered.subarray(s0 * D, (s0 + n) * D), n, logits.subarray(0, n * V));
      stats.unembedRows += n;
      model.backend.logitStats(logits, n, V, lse, amax);
      for (let k = 0; k < n; k++) {
        const s = s0 + k, b = reqOf[s];
        out.ll[first][b] += logits[k * V + target[s]] - lse[k];
        if (amax[k] !== target[s]) out.greedy[first][b] = 0;
      }
    }
    for (const p of rest) {
      out.ll[p] = [...out.ll[first]];
      out.greedy[p] = [...out.greedy[first]];
    }
  };
  const all = plans.map((_, i) => i);
  if (strategy === 'trie') {
    const base = defaultPlan(c.nLayers);
    runTrieBatch<true>(new PlanTrie(plans, base), ex, ids, opts.prefixCacheBytes ?? 512 * 2 ** 20, block, (node, resid) => {
      evaluate(resid, node.terminals);
      return true;
    });
  } else {
    for (const p of all) {
      let r = ex.embed(ids);
      plans[p].forEach((l, slot) => (r = block(r, l, slot)));
      evaluate(r, [p]);
    }
  }
  return out;
}

/** One full forward per (request, plan), all positions unembedded (lm-eval's cost, one model at a time). */
function naive(model: ModelLike, plans: readonly (readonly number[])[], requests: readonly ScoredRequest[], out: UnitScores, stats: { blocks: number; unembedRows: number }): void {
  const V = model.config.vocabSize;
  plans.forEach((plan, p) =>
    requests.forEach((r, b) => {
      const T = r.input.length;
      const res = forward(model, { ids: Int32Array.from(r.input), batch: 1, seq: T }, { plan });
      stats.blocks += plan.length;
      stats.unembedRows += T;
      const n = r.continuationTokens.length;
      const rows = res.logits!.data.subarray(r.scoreFrom * V, (r.scoreFrom + n) * V);
      const lse = new Float64Array(n), amax = new Int32Array(n);
      model.backend.logitStats(rows, n, V, lse, amax);
      let ll = 0, greedy = 1;
      r.continuationTokens.forEach((tok, k) => {
        ll += rows[k * V + tok] - lse[k];
        if (amax[k] !== tok) greedy = 0;
      });
      out.ll[p][b] = ll;
      out.greedy[p][b] = greedy;
    }),
  );
}
