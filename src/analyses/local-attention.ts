/**
 * Local attention per layer (paper spec §5.1a, stage 1: detokenization). Two metrics per window
 * k ∈ {1, 2, 4, 8, 16}, both in the result file:
 *
 * - `windows` (total; layerlab's figure): per query q, S_k(q) = Σ_{i=1..min(k,q)} A[q, q−i], the **total**
 *   weight on the preceding k tokens (the camera-ready caption's words), averaged over heads; each query
 *   one value, pooled over queries and documents, sem across documents (math/attention-windows
 *   `localAttentionWindows`: queries with at least one eligible key, the same queries for every k).
 * - `mean_entry` (per-offset mean; the paper protocol's figure): the authors'
 *   `extract_top_k_sub_diagonals_mean(pattern, k)`, the NaN-skipping mean of the entries A[h, q, q−i],
 *   i = 1..k, pooled over heads, offsets and queries (≈ S_k/k), **one value per document** (the entries
 *   of all its windows pooled), then mean and spread over documents, as the notebook averages documents.
 * - `prev5` (Fig. 1, v1): the same per-document mean entry over the 5 preceding tokens.
 *
 * `includeBos` (recorded): whether key 0 (BOS) counts as a preceding token. Default true, as the authors'
 * code (which included it despite its comment). Under `--protocol paper` the analysis reads the
 * notebook's corpus (`PAPER_ATTENTION`) instead of the run's windows and its figure shows `mean_entry`.
 */
import type { LocalAttentionResult } from '../results/schema.js';
import type { Stat } from '../stats/stat.js';
import type { ModelConfig } from '../model/config.js';
import { relativeDepth } from './common.js';
import { DEFAULT_ATTENTION_WINDOWS, firstOffsets, subDiagonalSums } from './math/attention-windows.js';
import { DocStats, type DocStatsState } from '../stats/doc-stats.js';
import { DocMeans, type DocMeansState } from '../stats/doc-means.js';
import type { StageContext, StreamingAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';
import { decodeState, encodeState } from '../results/state-codec.js';
import { firstDocs, firstTokens, overOwnCorpus, type OwnCorpus } from './own-corpus.js';

/** Which metric the figure shows: layerlab's totals, or the authors' per-offset mean. */
export type LocalAttentionShown = 'total' | 'mean_entry';

export interface LocalAttentionOptions {
  windows?: number[];
  includeBos?: boolean;
  /** Offsets of the v1 metric (default 5). */
  prevOffsets?: number;
  shown?: LocalAttentionShown;
}

export interface LocalAttentionState {
  layers: number;
  windows: number[];
  includeBos: boolean;
  prevOffsets: number;
  shown?: LocalAttentionShown;
  win: DocStatsState[][];
  entry?: DocMeansState[][];
  prev: DocMeansState[];
}

export class LocalAttentionAccumulator {
  readonly windows: number[];
  readonly includeBos: boolean;
  readonly prevOffsets: number;
  readonly shown: LocalAttentionShown;
  /** [layer][window]: per-query totals S_k. */
  readonly win: DocStats[][];
  /** [layer][window]: per-document mean entry over offsets 1..k. */
  readonly entry: DocMeans[][];
  readonly prev: DocMeans[];

  constructor(readonly layers: number, opts: LocalAttentionOptions = {}) {
    this.windows = opts.windows ?? DEFAULT_ATTENTION_WINDOWS;
    this.includeBos = opts.includeBos ?? true;
    this.prevOffsets = opts.prevOffsets ?? 5;
    this.shown = opts.shown ?? 'total';
    for (const k of this.windows) if (!Number.isInteger(k) || k < 1) throw new Error(`local attention: window sizes must be positive integers, got ${k}`);
    this.win = Array.from({ length: layers }, () => this.windows.map(() => new DocStats()));
    this.entry = Array.from({ length: layers }, () => this.windows.map(() => new DocMeans()));
    this.prev = Array.from({ length: layers }, () => new DocMeans());
  }

  /** One layer's pattern [B, H, T, T] (post-softmax); docIds[b] is row b's document. */
  addPattern(layer: number, pattern: Float32Array, shape: number[], docIds: number[]): void {
    const [B, H, T] = shape;
    const firstKey = this.includeBos ? 0 : 1;
    const maxK = Math.max(...this.windows);
    const prefix = new Float64Array(maxK + 1);
    const per = H * T * T;
    for (let b = 0; b < B; b++) {
      const nq = T - (firstKey + 1);
      if (nq > 0) {
        const sums = this.windows.map(() => new Float64Array(nq));
        for (let h = 0; h < H; h++) {
          const base = b * per + h * T * T;
          for (let q = firstKey + 1; q < T; q++) {
            const row = base + q * T;
            const reach = Math.min(maxK, q - firstKey);
            for (let i = 1; i <= maxK; i++) prefix[i] = prefix[i - 1] + (i <= reach ? pattern[row + q - i] : 0);
            for (let w = 0; w < this.windows.length; w++) sums[w][q - firstKey - 1] += prefix[this.windows[w]] / H;
          }
        }
        for (let w = 0; w < this.windows.length; w++) this.win[layer][w].addMany(docIds[b], sums[w]);
      }
      const diag = subDiagonalSums(pattern.subarray(b * per, (b + 1) * per), [H, T, T], Math.max(maxK, this.prevOffsets), { includeBos: this.includeBos });
      this.windows.forEach((k, w) => {
        const e = firstOffsets(diag, k);
        this.entry[layer][w].add(docIds[b], e.sum, e.count);
      });
      const p = firstOffsets(diag, this.prevOffsets);
      this.prev[layer].add(docIds[b], p.sum, p.count);
    }
  }

  /** Folds another shard's accumulator in (same layers and windows). */
  merge(o: LocalAttentionAccumulator): this {
    this.win.forEach((ws, l) => ws.forEach((g, w) => g.merge(o.win[l][w])));
    this.entry.forEach((ws, l) => ws.forEach((g, w) => g.merge(o.entry[l][w])));
    this.prev.forEach((g, l) => g.merge(o.prev[l]));
    return this;
  }

  toJSON(): LocalAttentionState {
    return {
      layers: this.layers, windows: this.windows, includeBos: this.includeBos, prevOffsets: this.prevOffsets, shown: this.shown,
      win: this.win.map((ws) => ws.map((g) => g.toJSON())), entry: this.entry.map((ws) => ws.map((g) => g.toJSON())), prev: this.prev.map((g) => g.toJSON()),
    };
  }

  static fromJSON(s: LocalAttentionState): LocalAttentionAccumulator {
    const acc = new LocalAttentionAccumulator(s.layers, { windows: s.windows, includeBos: s.includeBos, prevOffsets: s.prevOffsets, shown: s.shown });
    s.win.forEach((ws, l) => ws.forEach((g, w) => acc.win[l][w].merge(DocStats.fromJSON(g))));
    s.entry?.forEach((ws, l) => ws.forEach((g, w) => acc.entry[l][w].merge(DocMeans.fromJSON(g))));
    s.prev.forEach((g, l) => acc.prev[l].merge(DocMeans.fromJSON(g)));
    return acc;
  }

  perLayer(): LocalAttentionResult['per_layer'] {
    const byWindow = (stats: Array<{ stat(): Stat }>) => Object.fromEntries(this.windows.map((k, w) => [String(k), stats[w].stat()]));
    return this.win.map((ws, layer) => ({
      layer,
      relative_depth: relativeDepth(layer, this.layers),
      windows: byWindow(ws),
      mean_entry: byWindow(this.entry[layer]),
      prev5: this.prev[layer].stat(),
    }));
  }

  choices(): Record<string, unknown> {
    return {
      windows: this.windows,
      include_bos: this.includeBos,
      window_metric: 'windows: total attention on the preceding k tokens per query, S_k(q) = sum_{i=1..min(k,q)} A[q,q-i], mean over heads; pooled over queries; sem across documents (layerlab; the camera-ready caption: "weight placed on the preceding k tokens")',
      mean_entry_metric: "mean_entry: the authors' extract_top_k_sub_diagonals_mean(pattern, k) (attention_prev5.ipynb): NaN-skipping mean of the entries A[h,q,q-i], i=1..k, pooled over heads, offsets and queries; one value per document (all its windows pooled), then mean, std and sem over documents",
      prev5_metric: `prev5: mean_entry over the ${this.prevOffsets} preceding tokens (Fig. 1, v1), per document`,
      figure: this.shown === 'mean_entry' ? "mean_entry (--protocol paper: the authors' metric)" : 'windows, the totals (--protocol layerlab)',
      queries: this.includeBos ? 'q >= 1' : 'q >= 2 (key 0 excluded)',
    };
  }
}

/** The authors' attention notebook: the first 100 documents; GPT-2 inputs cut at 500 tokens, BOS included (`to_tokens(text)[:, :500]`), other families at the full context. */
export const PAPER_ATTENTION = { documents: 100, tokensByFamily: { gpt2: 500 } as Record<string, number> };

/** Tokens per input (BOS included) of the paper protocol's attention corpus for a model. */
export function paperAttentionTokens(c: Pick<ModelConfig, 'family' | 'nCtx'>): number {
  return Math.min(c.nCtx, PAPER_ATTENTION.tokensByFamily[c.family] ?? c.nCtx);
}

/** The notebook's inputs: [BOS] + the first tokens of each of the first 100 documents, one row each. */
export function paperAttentionCorpus(ctx: StageContext): OwnCorpus {
  const n = paperAttentionTokens(ctx.model.config);
  const windows: Int32Array[] = [], docIndex: number[] = [];
  for (const d of firstDocs(ctx, PAPER_ATTENTION.documents)) {
    const ids = firstTokens(ctx, ctx.corpus.docs[d], n - 1);
    if (ids.length === 0) continue;
    windows.push(Int32Array.from([ctx.bos, ...ids]));
    docIndex.push(d);
  }
  return {
    windows, docIndex,
    choices: { source: 'attention_prev5.ipynb', documents: `the first ${PAPER_ATTENTION.documents} documents (fewer with --max-docs), each one input`, tokens: `BOS + the first ${n - 1} tokens (${n} in all: 500 for GPT-2 as the notebook's [:, :500], else the model's context)` },
  };
}

const accumulatorOptions = (ctx: StageContext): LocalAttentionOptions => ({
  includeBos: ctx.opts.includeBosAttention, windows: ctx.opts.attentionWindows, shown: ctx.opts.protocol === 'paper' ? 'mean_entry' : 'total',
});

/** Local attention as a streaming analysis: reads every layer's attention pattern during the forward. */
export const localAttentionAnalysis: StreamingAnalysis<LocalAttentionAccumulator> = {
  kind: 'streaming', name: 'local-attention', ...resultFileOf('local-attention'), figure: 'local-attention', phase: 1,
  needs: {},
  init: (ctx) => new LocalAttentionAccumulator(ctx.model.config.nLayers, accumulatorOptions(ctx)),
  hooks: (acc, b) => [{ name: 'blocks.*.attn.hook_pattern', fn: (t, hc) => void acc.addPattern(hc.slot!, t.data, t.shape, b.docIds) }],
  add: () => {},
  merge: (a, b) => a.merge(b),
  encode: (acc) => encodeState(acc.toJSON()),
  decode: (bytes) => LocalAttentionAccumulator.fromJSON(decodeState(bytes)),
  result: (acc) => ({ choices: acc.choices(), body: { windows: acc.windows, include_bos: acc.includeBos, shown: acc.shown, per_layer: acc.perLayer() } }),
  forProtocol: (p) => (p === 'paper' ? localAttentionPaper : undefined),
};

/** Under --protocol paper: the same accumulator over the notebook's corpus, one job. */
const localAttentionPaper = overOwnCorpus(localAttentionAnalysis, paperAttentionCorpus);
