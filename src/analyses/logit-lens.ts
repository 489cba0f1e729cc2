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
 *
 * Under `--protocol paper` (`PAPER_LENS`): the released entropy notebook's corpus (the first 500
 * characters of the first 10 documents), positions 1..T−2, no unembedding bias, one value per document
 * (then mean and spread over documents), and KL in nats as the authors' `compute_kl_divergence`. The
 * per-layer normalization stays: it is the camera-ready's correction, whose code is unreleased.
 */
import type { ModelLike } from '../model/executor.js';
import type { LogitLensResult } from '../results/schema.js';
import { finalNorm, logitChunkRows, unembed } from '../model/readout.js';
import { DocStats, type DocStatsState } from '../stats/doc-stats.js';
import type { Stat } from '../stats/stat.js';
import type { StageContext, StreamingAnalysis } from './contract.js';
import { firstDocs, overOwnCorpus, type OwnCorpus } from './own-corpus.js';
import { clampEntropies, PAPER_ENTROPY_FLOOR } from '../sweep/clamped-entropy.js';
import { resultFileOf } from '../results/run-files.js';
import { decodeState, encodeState } from '../results/state-codec.js';

export interface LensOptions {
  /** Add the unembedding bias b_U (default true; the authors' notebook multiplies by W_U only). */
  unembedBias?: boolean;
  /** Entropy with probabilities clamped at this floor, as the authors' notebook (default exact). */
  entropyFloor?: number;
}

/** Logit-lens logits [rows, V] of residual rows [rows, D]. */
export function lensLogits(model: ModelLike, hidden: Float32Array, rows: number, opts: LensOptions = {}): Float32Array {
  const out = unembed(model, finalNorm(model, hidden, rows), rows);
  const b = model.params.b_U;
  if (opts.unembedBias === false && b) {
    const V = model.config.vocabSize;
    for (let r = 0; r < rows; r++) for (let v = 0; v < V; v++) out[r * V + v] -= b[v];
  }
  return out;
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
export function logitLensRows(model: ModelLike, points: Float32Array[], rows: number, opts: LensOptions = {}): LensRowStats[] {
  const V = model.config.vocabSize, D = model.config.dModel, be = model.backend;
  const out = points.map(() => ({
    entropyBits: new Float64Array(rows), klBits: new Float64Array(rows), agreement: new Uint8Array(rows), rank: new Int32Array(rows),
  }));
  const step = logitChunkRows(V);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const n = Math.min(step, rows - r0);
    const slice = (p: Float32Array) => p.subarray(r0 * D, (r0 + n) * D);
    const fin = lensLogits(model, slice(points[points.length - 1]), n, opts);
    const lseF = new Float64Array(n), argF = new Int32Array(n);
    be.logitStats(fin, n, V, lseF, argF);
    const lse = new Float64Array(n), arg = new Int32Array(n), ent = new Float64Array(n), kl = new Float64Array(n);
    for (let i = 0; i < points.length; i++) {
      const last = i === points.length - 1;
      const q = last ? fin : lensLogits(model, slice(points[i]), n, opts);
      be.logitStats(q, n, V, lse, arg, ent);
      if (opts.entropyFloor !== undefined) clampEntropies(q, n, V, lse, ent, opts.entropyFloor);
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

export type KlUnit = 'bits' | 'nats';

export interface LogitLensOptions extends LensOptions {
  /** Unit of the result's `kl` (default bits). */
  klUnit?: KlUnit;
  /** One value per document (the mean of its tokens), then statistics over documents (default: token-pooled). */
  perDocument?: boolean;
}

export interface LogitLensState {
  points: number;
  opts?: LogitLensOptions;
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

  constructor(readonly points: number, readonly opts: LogitLensOptions = {}) {
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
    const stats = logitLensRows(model, gathered, sel.length, this.opts);
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
      opts: this.opts,
      entropy: this.entropy.map((g) => g.toJSON()),
      kl: this.kl.map((g) => g.toJSON()),
      agreement: this.agreement.map((g) => g.toJSON()),
      rank: this.rank.map((g) => g.toJSON()),
    };
  }

  static fromJSON(s: LogitLensState): LogitLensAccumulator {
    const acc = new LogitLensAccumulator(s.points, s.opts);
    for (let i = 0; i < s.points; i++) {
      acc.entropy[i].merge(DocStats.fromJSON(s.entropy[i]));
      acc.kl[i].merge(DocStats.fromJSON(s.kl[i]));
      acc.agreement[i].merge(DocStats.fromJSON(s.agreement[i]));
      acc.rank[i].merge(DocStats.fromJSON(s.rank[i]));
    }
    return acc;
  }

  get klUnit(): KlUnit {
    return this.opts.klUnit ?? 'bits';
  }

  perPoint(): LogitLensResult['per_point'] {
    const L = this.points - 1;
    const stat = (d: DocStats) => (this.opts.perDocument ? d.docMeanStat() : d.stat());
    return this.entropy.map((_, i) => {
      const klBits = stat(this.kl[i]);
      return {
        point: i,
        relative_depth: L > 0 ? i / L : 0,
        entropy_bits: stat(this.entropy[i]),
        kl: this.klUnit === 'nats' ? scaled(klBits, Math.LN2) : klBits,
        kl_bits: klBits,
        agreement: stat(this.agreement[i]),
        rank_of_final_top1: stat(this.rank[i]),
      };
    });
  }
}

/** A statistic of c·x from that of x (c > 0): mean, std and sem scale, counts stay. */
function scaled(s: Stat, c: number): Stat {
  const m = (x: number | null) => (x === null ? null : x * c);
  return { ...s, mean: m(s.mean), std: m(s.std), sem: m(s.sem) };
}

export const LOGIT_LENS_CHOICES = {
  normalization: 'final norm applied to each hidden state with its own statistics (not the cached final-layer scale of TransformerLens 1.18, TL issue #1076)',
  unembed_bias: 'included',
  points: 'L+1: 0 = embeddings (blocks.0.hook_resid_pre), i = blocks.{i-1}.hook_resid_post; relative_depth = i/L',
  positions: 'every position after BOS, the last included',
  pooling: 'token-pooled mean and sample std; sem across documents',
  kl_direction: 'KL(final || layer), bits',
  kl_unit: 'bits',
  entropy: 'bits, exact',
  rank: '1-based rank of the final top-1 token under the layer distribution (ties favour it)',
} as const;

/** What `--protocol paper` changes, each with its source. */
export const PAPER_LENS = {
  documents: 10,
  characters: 500,
  choices: {
    normalization: "final norm with each hidden state's own statistics: the camera-ready's correction of TL issue #1076, whose code is unreleased (the released entropy_calculation.ipynb uses accumulated_resid(apply_ln=True), the cached final-layer scale); kept as layerlab's, marked",
    unembed_bias: 'excluded: entropy_calculation.ipynb multiplies by W_U only (accumulated_resid(...) @ W_U)',
    positions: "1..T-2 (the notebook's layer_output[:, :, 1:-1]: BOS and the last position dropped)",
    pooling: 'mean over positions per document, then mean, sample std and sem over documents (the notebook: mean and np.std over its 10 documents; np.std divides by n, layerlab by n - 1)',
    kl_direction: "KL(final || layer): ModelMetrics.compute_kl_divergence(p, q) of model_intervention.py with the final (reference) distribution as p, as the sweep's KL(original || intervened); the lens KL code of Fig. 8 is unreleased, so it is computed on the entropy notebook's corpus and positions",
    kl_unit: 'nats (compute_kl_divergence: natural log); kl_bits holds the same in bits',
    entropy: "bits, every probability clamped at 1e-9 before summing, as the notebook's calculate_base2_entropy (adds at most V * 3.0e-8 bits, about 0.0015 at a 50k vocabulary)",
  },
} as const;

/** The notebook's inputs: [BOS] + the tokens of the first 500 characters of each of the first 10 documents. */
export function paperLensCorpus(ctx: StageContext): OwnCorpus {
  const windows: Int32Array[] = [], docIndex: number[] = [];
  const nCtx = ctx.model.config.nCtx;
  for (const d of firstDocs(ctx, PAPER_LENS.documents)) {
    // Python's text[:500] counts code points; a JavaScript string counts UTF-16 units.
    const prompt = Array.from(ctx.corpus.docs[d]).slice(0, PAPER_LENS.characters).join('');
    const ids = ctx.tokenizer.encode(prompt).slice(0, nCtx - 1);
    if (ids.length === 0) continue;
    windows.push(Int32Array.from([ctx.bos, ...ids]));
    docIndex.push(d);
  }
  return {
    windows, docIndex,
    choices: { source: 'entropy_calculation.ipynb', documents: `the first ${PAPER_LENS.documents} documents (fewer with --max-docs)`, text: `the first ${PAPER_LENS.characters} characters of each (code points, as Python slices), BOS prepended, cut at the model's context` },
  };
}

const isPaper = (ctx: StageContext) => ctx.opts.protocol === 'paper';
/** Positions 1..T−2, the notebook's [:, :, 1:-1]. */
export const INNER_POSITIONS: PositionFilter = (t, seq) => t >= 1 && t <= seq - 2;

/** The logit lens as a streaming analysis over the shared forward's residual points. */
export const logitLensAnalysis: StreamingAnalysis<LogitLensAccumulator> = {
  kind: 'streaming', name: 'logit-lens', ...resultFileOf('logit-lens'), figure: 'logit-lens', phase: 1,
  needs: { residuals: true },
  init: (ctx) => new LogitLensAccumulator(ctx.model.config.nLayers + 1, isPaper(ctx) ? { unembedBias: false, klUnit: 'nats', perDocument: true, entropyFloor: PAPER_ENTROPY_FLOOR } : {}),
  add: (acc, b, out, ctx) => acc.addBatch(ctx.model, out.points, b.batch, b.seq, b.docIds, isPaper(ctx) ? INNER_POSITIONS : AFTER_BOS),
  merge: (a, b) => a.merge(b),
  encode: (acc) => encodeState(acc.toJSON()),
  decode: (bytes) => LogitLensAccumulator.fromJSON(decodeState(bytes)),
  result: (acc, ctx) => ({ choices: { ...LOGIT_LENS_CHOICES, ...(isPaper(ctx) ? PAPER_LENS.choices : {}) }, body: { kl_unit: acc.klUnit, per_point: acc.perPoint() } }),
  forProtocol: (p) => (p === 'paper' ? logitLensPaper : undefined),
};

/** Under --protocol paper: the same accumulator over the notebook's corpus, one job. */
const logitLensPaper = overOwnCorpus(logitLensAnalysis, paperLensCorpus);
