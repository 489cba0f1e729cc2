/**
 * Logit lens (paper spec §5.2b, stages 2–4). For each of the L+1 residual points (0 = embeddings,
 * i = after block i−1) the final norm is applied with **that hidden state's own statistics** (mean and
 * variance for LayerNorm, RMS for RMSNorm; the final norm's weight, bias and eps), then the unembedding
 * with its bias:
 *
 *   p^(ℓ) = softmax(W_U · LN_f(h_ℓ) + b_U)
 *
 * Per token: entropy H(p^(ℓ)) in bits, KL(p^(L) ‖ p^(ℓ)) in bits (final as P), top-1 agreement with the
 * final prediction, and the 1-based rank of the final top-1 token under p^(ℓ) (1 = also top-1 here; ties
 * count in its favour). The paper's code divided every layer by the cached final-layer scale
 * (TransformerLens 1.18 `accumulated_resid(apply_ln=True)`, TL issue #1076); that is deliberately not done.
 *
 * Aggregation: token-pooled over the selected positions (default every position after BOS, the last
 * included, as the sweeps do), standard error across documents.
 */
import type { ModelLike } from '../model/executor.js';
import type { LogitLensResult } from '../results/schema.js';
import { finalNorm, logitChunkRows, unembed } from '../model/readout.js';
import { DocStats, type DocStatsState } from '../stats/doc-stats.js';
import type { StreamingAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';
import { decodeState, encodeState } from '../results/state-codec.js';

/** Logit-lens logits [rows, V] of residual rows [rows, D]. */
export function lensLogits(model: ModelLike, hidden: Float32Array, rows: number): Float32Array {
  return unembed(model, finalNorm(model, hidden, rows), rows);
}

export interface LensRowStats {
  entropyBits: Float64Array;
  klBits: Float64Array;
  agreement: Uint8Array;
  /** 1-based rank of the final top-1 token. */
  rank: Int32Array;
}

/**
 * Per-row statistics of every point against the last one. `points[i]` holds `rows` residual rows
 * [rows, D]; the last point defines the final distribution. Returns one LensRowStats per point.
 */
export function logitLensRows(model: ModelLike, points: Float32Array[], rows: number): LensRowStats[] {
  const V = model.config.vocabSize, D = model.config.dModel, be = model.backend;
  const out = points.map(() => ({
    entropyBits: new Float64Array(rows), klBits: new Float64Array(rows), agreement: new Uint8Array(rows), rank: new Int32Array(rows),
  }));
  const step = logitChunkRows(V);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const n = Math.min(step, rows - r0);
    const slice = (p: Float32Array) => p.subarray(r0 * D, (r0 + n) * D);
    const fin = lensLogits(model, slice(points[points.length - 1]), n);
    const lseF = new Float64Array(n), argF = new Int32Array(n);
    be.logitStats(fin, n, V, lseF, argF);
    const lse = new Float64Array(n), arg = new Int32Array(n), ent = new Float64Array(n), kl = new Float64Array(n);
    for (let i = 0; i < points.length; i++) {
      const last = i === points.length - 1;
      const q = last ? fin : lensLogits(model, slice(points[i]), n);
      be.logitStats(q, n, V, lse, arg, ent);
      if (last) kl.fill(0);
      else be.klRows(fin, q, n, V, lseF, lse, kl);
      const o = out[i];
      for (let r = 0; r < n; r++) {
        o.entropyBits[r0 + r] = ent[r];
        o.klBits[r0 + r] = kl[r] / Math.LN2;
        o.agreement[r0 + r] = arg[r] === argF[r] ? 1 : 0;
        const base = r * V, target = q[base + argF[r]];
        let above = 0;
        for (let v = 0; v < V; v++) if (q[base + v] > target) above++;
        o.rank[r0 + r] = above + 1;
      }
    }
  }
  return out;
}

export interface LogitLensState {
  points: number;
  entropy: DocStatsState[];
  kl: DocStatsState[];
  agreement: DocStatsState[];
  rank: DocStatsState[];
}

/** Position filter: which (row, position) pairs are scored. Default: every position after BOS. */
export type PositionFilter = (t: number, seq: number) => boolean;
export const AFTER_BOS: PositionFilter = (t) => t >= 1;

/** Streams the logit lens over batches; one DocStats per point and metric. */
export class LogitLensAccumulator {
  readonly entropy: DocStats[];
  readonly kl: DocStats[];
  readonly agreement: DocStats[];
  readonly rank: DocStats[];

  constructor(readonly points: number) {
    const make = () => Array.from({ length: points }, () => new DocStats());
    this.entropy = make();
    this.kl = make();
    this.agreement = make();
    this.rank = make();
  }

  /**
   * One batch: `points[i]` is the residual stream at point i, [B*T*D]; `docIds[b]` the document of row b.
   * Only the selected positions are unembedded.
   */
  addBatch(model: ModelLike, points: Float32Array[], batch: number, seq: number, docIds: number[], keep: PositionFilter = AFTER_BOS): void {
    if (points.length !== this.points) throw new Error(`logit lens: expected ${this.points} points, got ${points.length}`);
    const D = model.config.dModel;
    const sel: number[] = [];
    const selDoc: number[] = [];
    for (let b = 0; b < batch; b++) for (let t = 0; t < seq; t++) if (keep(t, seq)) {
      sel.push(b * seq + t);
      selDoc.push(docIds[b]);
    }
    if (sel.length === 0) return;
    const gathered = points.map((p) => {
      const g = new Float32Array(sel.length * D);
      sel.forEach((row, i) => g.set(p.subarray(row * D, row * D + D), i * D));
      return g;
    });
    const stats = logitLensRows(model, gathered, sel.length);
    stats.forEach((s, i) => {
      // Group consecutive rows of one document so DocStats sees few calls.
      let start = 0;
      for (let r = 1; r <= sel.length; r++) {
        if (r < sel.length && selDoc[r] === selDoc[start]) continue;
        const doc = selDoc[start];
        this.entropy[i].addMany(doc, s.entropyBits.subarray(start, r));
        this.kl[i].addMany(doc, s.klBits.subarray(start, r));
        this.agreement[i].addMany(doc, s.agreement.subarray(start, r));
        this.rank[i].addMany(doc, s.rank.subarray(start, r));
        start = r;
      }
    });
  }

  /** Folds another shard's accumulator in. */
  merge(o: LogitLensAccumulator): this {
    for (let i = 0; i < this.points; i++) {
      this.entropy[i].merge(o.entropy[i]);
      this.kl[i].merge(o.kl[i]);
      this.agreement[i].merge(o.agreement[i]);
      this.rank[i].merge(o.rank[i]);
    }
    return this;
  }

  toJSON(): LogitLensState {
    return {
      points: this.points,
      entropy: this.entropy.map((g) => g.toJSON()),
      kl: this.kl.map((g) => g.toJSON()),
      agreement: this.agreement.map((g) => g.toJSON()),
      rank: this.rank.map((g) => g.toJSON()),
    };
  }

  static fromJSON(s: LogitLensState): LogitLensAccumulator {
    const acc = new LogitLensAccumulator(s.points);
    for (let i = 0; i < s.points; i++) {
      acc.entropy[i].merge(DocStats.fromJSON(s.entropy[i]));
      acc.kl[i].merge(DocStats.fromJSON(s.kl[i]));
      acc.agreement[i].merge(DocStats.fromJSON(s.agreement[i]));
      acc.rank[i].merge(DocStats.fromJSON(s.rank[i]));
    }
    return acc;
  }

  perPoint(): LogitLensResult['per_point'] {
    const L = this.points - 1;
    return this.entropy.map((_, i) => ({
      point: i,
      relative_depth: L > 0 ? i / L : 0,
      entropy_bits: this.entropy[i].stat(),
      kl_bits: this.kl[i].stat(),
      agreement: this.agreement[i].stat(),
      rank_of_final_top1: this.rank[i].stat(),
    }));
  }
}

export const LOGIT_LENS_CHOICES = {
  normalization: 'final norm applied to each hidden state with its own statistics (not the cached final-layer scale of TransformerLens 1.18, TL issue #1076)',
  unembed_bias: 'included',
  points: 'L+1: 0 = embeddings (blocks.0.hook_resid_pre), i = blocks.{i-1}.hook_resid_post; relative_depth = i/L',
  positions: 'every position after BOS, the last included',
  pooling: 'token-pooled mean and sample std; sem across documents',
  kl_direction: 'KL(final || layer), bits',
  rank: '1-based rank of the final top-1 token under the layer distribution (ties favour it)',
} as const;

/** The logit lens as a streaming analysis over the shared forward's residual points. */
export const logitLensAnalysis: StreamingAnalysis<LogitLensAccumulator> = {
  kind: 'streaming', name: 'logit-lens', ...resultFileOf('logit-lens'), figure: 'logit-lens', phase: 1,
  needs: { residuals: true },
  init: (ctx) => new LogitLensAccumulator(ctx.model.config.nLayers + 1),
  add: (acc, b, out, ctx) => acc.addBatch(ctx.model, out.points, b.batch, b.seq, b.docIds),
  merge: (a, b) => a.merge(b),
  encode: (acc) => encodeState(acc.toJSON()),
  decode: (bytes) => LogitLensAccumulator.fromJSON(decodeState(bytes)),
  result: (acc) => ({ choices: { ...LOGIT_LENS_CHOICES }, body: { per_point: acc.perPoint() } }),
};
