/**
 * Scores requests (context + continuation token sequences) under many layer plans at once.
 *
 * What is shared ('trie', the default):
 * - across plans: requests are grouped into units of whole items, and each unit runs as one right-padded
 *   batch through the trie of plans (src/sweep/plan-trie.ts): a plan continues from the residual stream
 *   of its longest prefix shared with the plans already run, so every block of a shared prefix runs once
 *   per unit for all plans;
 * - across the choices of an item: the item is ONE packed row, [context, choice 0, choice 1, ...] (each
 *   choice without its last token, as lm-eval's input), with each choice's positions continuing from the
 *   context and attention masked so a choice sees the context and itself only (Executor TokenLayout).
 *   The context is computed once per item and plan prefix, never per choice. An item is not packed when
 *   it has one continuation (LAMBADA), when lm-eval would truncate it, when its choices' context tokens
 *   differ, when the packed row exceeds the model's context, or for sliding-window models: then each
 *   request is its own row;
 * - only the positions that score a continuation token are unembedded and log-softmaxed.
 * - 'recompute': the same units and rows, every plan run from the embedding (numbers identical to 'trie').
 * - 'naive': one full forward (all positions unembedded) per (request, plan): what one lm-eval run per
 *   modified model costs; the reference of the benchmark and of the equality tests.
 * Right-padding cannot change a real position (causal attention), and padded positions are never scored.
 */
import { Executor, type ModelLike, type TokenLayout } from '../model/executor.js';
import { defaultPlan, forward } from '../model/forward.js';
import { logitChunkRows } from '../model/readout.js';
import { runTrieBatch } from '../sweep/engine.js';
import { PlanTrie } from '../sweep/plan-trie.js';
import type { ScoredRequest } from './requests.js';

export type EvalStrategy = 'trie' | 'recompute' | 'naive';

export interface EngineStats {
  blocks: number;
  blockTokens: number;
  unembedRows: number;
}

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
  /** Memory for one chunk of logits (rows x vocab floats); default 128 MiB. */
  logitsChunkBytes?: number;
  /** Counts of work done, added to: block runs, token rows through blocks (batch x seq each), unembedded rows. */
  stats?: EngineStats;
  /** Pack the choices of an item into one row sharing the context (default true). */
  pack?: boolean;
}

/** How an item's requests become model rows: tokens, positions, segments, and where each token is scored. */
interface ItemRows {
  rows: Array<{ ids: number[]; positions: number[]; segments: number[] }>;
  /** Per request (in the item's order), per continuation token: [row, position in the row]. */
  scored: Array<Array<[number, number]>>;
}

/** The packed form of an item's requests, or undefined when packing does not apply (see the header). */
function packItem(reqs: readonly ScoredRequest[], maxLen: number): ItemRows | undefined {
  if (reqs.length < 2 || reqs.some((r) => r.truncated > 0)) return undefined;
  const ctx = reqs[0].contextTokens;
  if (reqs.some((r) => r.contextTokens.length !== ctx.length || r.contextTokens.some((t, i) => t !== ctx[i]))) return undefined;
  const P = ctx.length;
  const ids = [...ctx], positions = ctx.map((_, i) => i), segments = ctx.map(() => 0);
  const scored = reqs.map((r, k) => {
    const n = r.continuationTokens.length;
    const at: Array<[number, number]> = [[0, P - 1]];
    for (let j = 0; j < n - 1; j++) {
      at.push([0, ids.length]);
      ids.push(r.continuationTokens[j]);
      positions.push(P + j);
      segments.push(k + 1);
    }
    return at;
  });
  return ids.length > maxLen ? undefined : { rows: [{ ids, positions, segments }], scored };
}

function plainItem(reqs: readonly ScoredRequest[]): ItemRows {
  return {
    rows: reqs.map((r) => ({ ids: r.input, positions: r.input.map((_, i) => i), segments: r.input.map(() => 0) })),
    scored: reqs.map((r, k) => r.continuationTokens.map((_, j): [number, number] => [k, r.scoreFrom + j])),
  };
}

/** Rows of one item: packed when allowed, else one row per request. */
function itemRows(reqs: readonly ScoredRequest[], pack: boolean, config: ModelLike['config']): ItemRows {
  return (pack && config.slidingWindow === undefined ? packItem(reqs, config.nCtx) : undefined) ?? plainItem(reqs);
}

/**
 * Units of work: whole items (all their requests), longest row first (then file order), grouped while
 * rows x longest row <= maxBatchTokens and every row is at least 3/4 of the longest (little padding); at
 * least one item per unit. Deterministic for the same requests and options, so a resumed run redoes
 * exactly the same units.
 */
export function evalUnits(requests: readonly ScoredRequest[], maxBatchTokens: number, config: ModelLike['config'], pack = true): number[][] {
  const byItem = new Map<number, number[]>();
  requests.forEach((r, i) => byItem.set(r.item, [...(byItem.get(r.item) ?? []), i]));
  const items = [...byItem.entries()].map(([item, reqs]) => {
    const rows = itemRows(reqs.map((i) => requests[i]), pack, config).rows.map((r) => r.ids.length);
    return { item, reqs, rows: rows.length, len: Math.max(...rows), min: Math.min(...rows) };
  });
  items.sort((a, b) => b.len - a.len || a.item - b.item);
  const units: number[][] = [];
  for (let i = 0; i < items.length; ) {
    const seq = items[i].len;
    let rows = items[i].rows;
    const unit = [...items[i++].reqs];
    while (i < items.length && (rows + items[i].rows) * seq <= maxBatchTokens && 4 * items[i].min >= 3 * seq) {
      rows += items[i].rows;
      unit.push(...items[i++].reqs);
    }
    units.push(unit);
  }
  return units;
}

/** Scores `requests` (one unit) under every plan. Plans must be distinct. */
export function scoreUnit(model: ModelLike, plans: readonly (readonly number[])[], requests: readonly ScoredRequest[], opts: ScoreOptions = {}): UnitScores {
  const out: UnitScores = { ll: plans.map(() => new Array<number>(requests.length).fill(0)), greedy: plans.map(() => new Array<number>(requests.length).fill(1)) };
  const stats = opts.stats ?? { blocks: 0, blockTokens: 0, unembedRows: 0 };
  const strategy = opts.strategy ?? 'trie';
  if (strategy === 'naive') {
    naive(model, plans, requests, out, stats);
    return out;
  }
  const c = model.config, D = c.dModel, V = c.vocabSize;
  // Items in unit order; their rows stacked into one batch.
  const itemsOrder: number[] = [];
  const reqsOf = new Map<number, number[]>();
  requests.forEach((r, i) => {
    if (!reqsOf.has(r.item)) itemsOrder.push(r.item);
    reqsOf.set(r.item, [...(reqsOf.get(r.item) ?? []), i]);
  });
  const built = itemsOrder.map((it) => ({ reqs: reqsOf.get(it)!, rows: itemRows(reqsOf.get(it)!.map((i) => requests[i]), opts.pack ?? true, c) }));
  const B = built.reduce((n, x) => n + x.rows.rows.length, 0);
  const T = Math.max(...built.flatMap((x) => x.rows.rows.map((r) => r.ids.length)));
  const ids = new Int32Array(B * T), positions = new Int32Array(B * T), segments = new Int32Array(B * T);
  let packed = false;
  // The flat rows that score continuation tokens, the request each belongs to, and the target token.
  const rowOf: number[] = [], reqOf: number[] = [], target: number[] = [];
  let b0 = 0;
  for (const x of built) {
    x.rows.rows.forEach((r, k) => {
      const o = (b0 + k) * T;
      ids.fill(r.ids[0], o, o + T);
      ids.set(r.ids, o);
      for (let t = 0; t < T; t++) positions[o + t] = t < r.positions.length ? r.positions[t] : t;
      segments.set(r.segments, o);
      if (r.segments.some((g) => g !== 0)) packed = true;
    });
    x.rows.scored.forEach((at, k) => at.forEach(([row, pos], j) => {
      rowOf.push((b0 + row) * T + pos);
      reqOf.push(x.reqs[k]);
      target.push(requests[x.reqs[k]].continuationTokens[j]);
    }));
    b0 += x.rows.rows.length;
  }
  const S = rowOf.length;
  const chunkRows = Math.max(1, Math.min(S, logitChunkRows(V, opts.logitsChunkBytes)));
  const gathered = new Float32Array(S * D);
  const logits = new Float32Array(chunkRows * V);
  const lse = new Float64Array(chunkRows), amax = new Int32Array(chunkRows);
  const layout: TokenLayout | undefined = packed ? { positions, segments } : undefined;
  const ex = new Executor(model, B, T, undefined, layout);
  const block = (r: Float32Array, layer: number, slot: number) => {
    stats.blocks++;
    stats.blockTokens += B * T;
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
function naive(model: ModelLike, plans: readonly (readonly number[])[], requests: readonly ScoredRequest[], out: UnitScores, stats: EngineStats): void {
  const V = model.config.vocabSize;
  plans.forEach((plan, p) =>
    requests.forEach((r, b) => {
      const T = r.input.length;
      const res = forward(model, { ids: Int32Array.from(r.input), batch: 1, seq: T }, { plan });
      stats.blocks += plan.length;
      stats.blockTokens += plan.length * T;
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
