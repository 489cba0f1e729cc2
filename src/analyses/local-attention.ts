/**
 * Local attention per layer (paper spec §5.1a, stage 1: detokenization).
 *
 * - Window totals, k ∈ {1, 2, 4, 8, 16} (camera-ready Fig. 6a): per query q, S_k(q) = Σ_{i=1..min(k,q)}
 *   A[q, q−i] — the **total** weight on the preceding k tokens — averaged over heads; each query is one
 *   value, pooled over queries and documents (same definition as math/attention-windows
 *   `localAttentionWindows`: queries with at least one eligible key, the same queries for every k).
 * - prev5 (v1 / Fig. 1, the authors' notebook): per window the NaN-skipping mean of the entries
 *   A[h, q, q−i], i = 1..5, pooled over heads and offsets (≈ S_5/5), one value per window; then the mean
 *   over windows with its standard error, as the notebook averages documents.
 * - `includeBos` (recorded): whether key 0 (BOS) counts as a preceding token. Default true, as the
 *   authors' code (which included it despite its comment).
 */
import type { LocalAttentionResult } from '../results/schema.js';
import { relativeDepth } from './common.js';
import { DEFAULT_ATTENTION_WINDOWS, previousTokensMeanEntry } from './math/attention-windows.js';
import { DocStats, type DocStatsState } from '../stats/doc-stats.js';
import type { StreamingAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';
import { decodeState, encodeState } from '../results/state-codec.js';

export interface LocalAttentionOptions {
  windows?: number[];
  includeBos?: boolean;
  /** Offsets of the v1 metric (default 5). */
  prevOffsets?: number;
}

export interface LocalAttentionState {
  layers: number;
  windows: number[];
  includeBos: boolean;
  prevOffsets: number;
  win: DocStatsState[][];
  prev: DocStatsState[];
}

export class LocalAttentionAccumulator {
  readonly windows: number[];
  readonly includeBos: boolean;
  readonly prevOffsets: number;
  /** [layer][window] */
  readonly win: DocStats[][];
  readonly prev: DocStats[];

  constructor(readonly layers: number, opts: LocalAttentionOptions = {}) {
    this.windows = opts.windows ?? DEFAULT_ATTENTION_WINDOWS;
    this.includeBos = opts.includeBos ?? true;
    this.prevOffsets = opts.prevOffsets ?? 5;
    for (const k of this.windows) if (!Number.isInteger(k) || k < 1) throw new Error(`local attention: window sizes must be positive integers, got ${k}`);
    this.win = Array.from({ length: layers }, () => this.windows.map(() => new DocStats()));
    this.prev = Array.from({ length: layers }, () => new DocStats());
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
      const p5 = previousTokensMeanEntry(pattern.subarray(b * per, (b + 1) * per), [H, T, T], { offsets: this.prevOffsets, includeBos: this.includeBos });
      if (Number.isFinite(p5)) this.prev[layer].add(docIds[b], p5);
    }
  }

  /** Folds another shard's accumulator in (same layers and windows). */
  merge(o: LocalAttentionAccumulator): this {
    this.win.forEach((ws, l) => ws.forEach((g, w) => g.merge(o.win[l][w])));
    this.prev.forEach((g, l) => g.merge(o.prev[l]));
    return this;
  }

  toJSON(): LocalAttentionState {
    return {
      layers: this.layers, windows: this.windows, includeBos: this.includeBos, prevOffsets: this.prevOffsets,
      win: this.win.map((ws) => ws.map((g) => g.toJSON())), prev: this.prev.map((g) => g.toJSON()),
    };
  }

  static fromJSON(s: LocalAttentionState): LocalAttentionAccumulator {
    const acc = new LocalAttentionAccumulator(s.layers, { windows: s.windows, includeBos: s.includeBos, prevOffsets: s.prevOffsets });
    s.win.forEach((ws, l) => ws.forEach((g, w) => acc.win[l][w].merge(DocStats.fromJSON(g))));
    s.prev.forEach((g, l) => acc.prev[l].merge(DocStats.fromJSON(g)));
    return acc;
  }

  perLayer(): LocalAttentionResult['per_layer'] {
    return this.win.map((ws, layer) => ({
      layer,
      relative_depth: relativeDepth(layer, this.layers),
      windows: Object.fromEntries(this.windows.map((k, w) => [String(k), ws[w].stat()])),
      prev5: this.prev[layer].stat(),
    }));
  }

  choices(): Record<string, unknown> {
    return {
      windows: this.windows,
      include_bos: this.includeBos,
      window_metric: 'total attention on the preceding k tokens per query, S_k(q) = sum_{i=1..min(k,q)} A[q,q-i], mean over heads; pooled over queries; sem across documents',
      prev5_metric: `v1 notebook: NaN-skipping mean of sub-diagonal entries A[h,q,q-i], i=1..${this.prevOffsets}, pooled over heads and offsets, one value per window; mean and sem over windows`,
      queries: this.includeBos ? 'q >= 1' : 'q >= 2 (key 0 excluded)',
    };
  }
}

/** Local attention as a streaming analysis: reads every layer's attention pattern during the forward. */
export const localAttentionAnalysis: StreamingAnalysis<LocalAttentionAccumulator> = {
  kind: 'streaming', name: 'local-attention', ...resultFileOf('local-attention'), figure: 'local-attention', phase: 1,
  needs: {},
  init: (ctx) => new LocalAttentionAccumulator(ctx.model.config.nLayers, { includeBos: ctx.opts.includeBosAttention, windows: ctx.opts.attentionWindows }),
  hooks: (acc, b) => [{ name: 'blocks.*.attn.hook_pattern', fn: (t, hc) => void acc.addPattern(hc.slot!, t.data, t.shape, b.docIds) }],
  add: () => {},
  merge: (a, b) => a.merge(b),
  encode: (acc) => encodeState(acc.toJSON()),
  decode: (bytes) => LocalAttentionAccumulator.fromJSON(decodeState(bytes)),
  result: (acc) => ({ choices: acc.choices(), body: { windows: acc.windows, include_bos: acc.includeBos, per_layer: acc.perLayer() } }),
};
