/**
 * Layer × layer linear CKA with the unbiased HSIC estimator accumulated over minibatches (paper spec §5.0,
 * the motivation for stages; stage 2 feature engineering). Representations are the block outputs
 * `blocks.{ℓ}.hook_resid_post`, ℓ = 0..L−1 (embeddings excluded, as the authors' code).
 *
 * Two samplings, both recorded:
 * - last-token (the paper, App. C): the residual at the last token of each window, sequences truncated at
 *   `maxSeq` (512; with a causal model the state at position 511 of a longer window equals that of the
 *   truncated sequence), gathered into minibatches of `batchSize` (128) vectors; a final partial batch is
 *   used when it has at least 4 vectors (the estimator's minimum).
 * - all-token (the authors' representation_similarity.py): each window is one minibatch of all its token
 *   positions (BOS excluded by default: its massive activations would dominate the Grams; recorded).
 *   Under `--protocol paper` as the script: BOS included, and the residuals those of the authors'
 *   TransformerLens model, loaded with `center_writing_weights=True`: every write to the residual stream
 *   has zero mean over d_model, so each residual row is the raw one minus its mean over d_model
 *   (LayerNorm models; TransformerLens does not centre RMSNorm models). With the paper protocol's corpus
 *   (the first n_ctx tokens of each document) a window is a whole document as `to_tokens` cuts it.
 */
import type { Backend } from '../backend/backend.js';
import type { CkaResult } from '../results/schema.js';
import { CkaAccumulator, type CkaAccumulatorJSON } from './math/cka.js';
import type { StageContext, StreamingAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';
import { decodeState, encodeState } from '../results/state-codec.js';

/**
 * The same sums as math/cka's CkaAccumulator (unbiased HSIC per minibatch, summed), with the Grams
 * X Xᵀ computed by BLAS (float32 products, float64 HSIC) instead of scalar loops: an all-token minibatch
 * of 512 positions × 1600 dims × 48 layers is otherwise minutes of JavaScript. The state is the
 * accumulator's JSON, so `CkaAccumulator.fromJSON(...).result()` gives the matrix.
 */
export class FastCkaAccumulator {
  constructor(nLayers: number, private readonly backend: Backend, private readonly acc = new CkaAccumulator(nLayers)) {}

  get nLayers(): number {
    return this.acc.nLayers;
  }

  get batches(): number {
    return this.acc.batches;
  }

  addBatch(features: Float32Array[], n: number, d: number): void {
    if (n < 4) throw new Error(`CKA: the unbiased HSIC needs n >= 4 examples per batch, got ${n}`);
    const g32 = new Float32Array(n * n);
    const grams = features.map((X) => {
      this.backend.gemm({ transA: false, transB: true, m: n, n, k: d, a: X, lda: d, b: X, ldb: d, beta: 0, c: g32, ldc: n });
      // Symmetrize (BLAS need not give bit-identical (a,b) and (b,a)) and zero the diagonal.
      const K = new Float64Array(n * n);
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) K[a * n + b] = a === b ? 0 : a < b ? g32[a * n + b] : g32[b * n + a];
      return K;
    });
    this.acc.addGrams(grams, n);
  }

  merge(other: FastCkaAccumulator): this {
    this.acc.merge(other.acc);
    return this;
  }

  toJSON(): CkaAccumulatorJSON {
    return this.acc.toJSON();
  }

  static fromJSON(json: CkaAccumulatorJSON, backend: Backend): FastCkaAccumulator {
    return new FastCkaAccumulator(json.nLayers, backend, CkaAccumulator.fromJSON(json));
  }

  result(): number[][] {
    return this.acc.result();
  }
}

export interface CkaOptions {
  lastToken?: boolean;
  allTokens?: boolean;
  batchSize?: number;
  maxSeq?: number;
  allTokensIncludeBos?: boolean;
  /** Subtract each all-token residual row's mean over d_model (the authors' centred writing weights). */
  allTokensCentered?: boolean;
}

/** The options of a run: under --protocol paper the all-token variant is the authors' (explicit options win). */
export function ckaOptionsFor(ctx: Pick<StageContext, 'opts' | 'model'>): CkaOptions {
  if (ctx.opts.protocol !== 'paper') return ctx.opts.cka ?? {};
  return { allTokensIncludeBos: true, allTokensCentered: ctx.model.config.norm === 'layernorm', ...ctx.opts.cka };
}

/** Rows of X [n, d] minus their own mean (a copy). */
export function centeredRows(X: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += X[r * d + j];
    m /= d;
    for (let j = 0; j < d; j++) out[r * d + j] = X[r * d + j] - m;
  }
  return out;
}

/** Serializable state: HSIC sums (float64, L x L) and the last-token vectors not yet in a minibatch. */
export interface CkaState {
  layers: number;
  dModel: number;
  last?: { batches: number; hsicSum: Float64Array };
  all?: { batches: number; hsicSum: Float64Array };
  /** Per layer, the pending vectors [pendingCount, D]. */
  pending: Float32Array[];
  pendingCount: number;
}

const sums = (a: FastCkaAccumulator | undefined) => {
  if (!a) return undefined;
  const j = a.toJSON();
  return { batches: j.batches, hsicSum: Float64Array.from(j.hsicSum) };
};
const fromSums = (layers: number, backend: Backend, s: { batches: number; hsicSum: Float64Array }) =>
  FastCkaAccumulator.fromJSON({ nLayers: layers, batches: s.batches, hsicSum: Array.from(s.hsicSum) }, backend);

export class CkaAnalysis {
  last?: FastCkaAccumulator;
  all?: FastCkaAccumulator;
  readonly batchSize: number;
  readonly maxSeq: number;
  readonly allTokensIncludeBos: boolean;
  readonly allTokensCentered: boolean;
  private pending: Float32Array[];
  private pendingCount = 0;

  constructor(readonly layers: number, readonly dModel: number, backend: Backend, opts: CkaOptions = {}) {
    if (opts.lastToken ?? true) this.last = new FastCkaAccumulator(layers, backend);
    if (opts.allTokens ?? true) this.all = new FastCkaAccumulator(layers, backend);
    this.batchSize = opts.batchSize ?? 128;
    this.maxSeq = opts.maxSeq ?? 512;
    this.allTokensIncludeBos = opts.allTokensIncludeBos ?? false;
    this.allTokensCentered = opts.allTokensCentered ?? false;
    if (this.batchSize < 4) throw new Error(`CKA batch size must be >= 4, got ${this.batchSize}`);
    this.pending = Array.from({ length: layers }, () => new Float32Array(this.batchSize * dModel));
  }

  /** One forward batch: resid[ℓ] = blocks.ℓ.hook_resid_post [B*T*D]. */
  addBatch(resid: Float32Array[], batch: number, seq: number): void {
    const D = this.dModel, L = this.layers;
    if (this.last) {
      const pos = Math.min(seq, this.maxSeq) - 1;
      for (let b = 0; b < batch; b++) {
        const row = (b * seq + pos) * D;
        for (let l = 0; l < L; l++) this.pending[l].set(resid[l].subarray(row, row + D), this.pendingCount * D);
        this.pendingCount++;
        if (this.pendingCount === this.batchSize) this.flush();
      }
    }
    if (this.all) {
      const first = this.allTokensIncludeBos ? 0 : 1;
      const n = seq - first;
      if (n >= 4) {
        for (let b = 0; b < batch; b++) {
          const raw = resid.map((r) => r.subarray((b * seq + first) * D, (b + 1) * seq * D));
          const feats = this.allTokensCentered ? raw.map((x) => centeredRows(x, n, D)) : raw;
          this.all.addBatch(feats, n, D);
        }
      }
    }
  }

  private flush(): void {
    if (!this.last || this.pendingCount < 4) return;
    const n = this.pendingCount, D = this.dModel;
    this.last.addBatch(this.pending.map((p) => p.subarray(0, n * D)), n, D);
    this.pendingCount = 0;
  }

  /**
   * End of a data shard: the partial last-token minibatch is used when it has at least 4 vectors (the
   * estimator's minimum) and dropped otherwise, so a sealed state holds sums only and merges by addition.
   * Last-token minibatches are therefore formed within a shard (with one shard, the whole corpus).
   */
  seal(): void {
    this.flush();
    this.pendingCount = 0;
  }

  /** Adds a sealed state of another shard. */
  merge(o: CkaAnalysis): this {
    if (o.pendingCount > 0) throw new Error('CkaAnalysis.merge: seal the state of a shard before merging it');
    if (this.last && o.last) this.last.merge(o.last);
    if (this.all && o.all) this.all.merge(o.all);
    return this;
  }

  /** Uses the final partial last-token batch (if >= 4 vectors) and returns the result fields. */
  finish(): Pick<CkaResult, 'last_token' | 'all_tokens'> {
    this.flush();
    const out: Pick<CkaResult, 'last_token' | 'all_tokens'> = {};
    if (this.last && this.last.batches > 0) out.last_token = { matrix: this.last.result(), batches: this.last.batches, batch_size: this.batchSize };
    if (this.all && this.all.batches > 0) out.all_tokens = { matrix: this.all.result(), batches: this.all.batches };
    return out;
  }

  toState(): CkaState {
    const D = this.dModel;
    return {
      layers: this.layers,
      dModel: D,
      last: sums(this.last),
      all: sums(this.all),
      pending: this.pending.map((p) => p.slice(0, this.pendingCount * D)),
      pendingCount: this.pendingCount,
    };
  }

  static fromState(s: CkaState, backend: Backend, opts: CkaOptions): CkaAnalysis {
    const c = new CkaAnalysis(s.layers, s.dModel, backend, opts);
    if (c.last && s.last) c.last = fromSums(s.layers, backend, s.last);
    if (c.all && s.all) c.all = fromSums(s.layers, backend, s.all);
    s.pending.forEach((b, l) => c.pending[l].set(b));
    c.pendingCount = s.pendingCount;
    return c;
  }

  choices(): Record<string, unknown> {
    return {
      representation: 'blocks.{l}.hook_resid_post, l = 0..L-1 (embeddings excluded)',
      estimator: 'linear kernel, unbiased HSIC (Nguyen et al. 2020) summed over minibatches; CKA from the sums',
      last_token: this.last ? { batch_size: this.batchSize, max_seq: this.maxSeq, position: 'min(T, max_seq) - 1 of each window' } : 'off',
      all_tokens: this.all
        ? {
          minibatch: 'one window (with the paper protocol\'s corpus, one whole document cut at n_ctx, as representation_similarity.py)',
          include_bos: this.allTokensIncludeBos,
          centered: this.allTokensCentered ? "each residual row minus its mean over d_model (the authors' model: TransformerLens center_writing_weights=True)" : false,
        }
        : 'off',
    };
  }
}

/** CKA as a streaming analysis over the block outputs of the shared forward; states are HSIC sums. */
export const ckaAnalysis: StreamingAnalysis<CkaAnalysis> = {
  kind: 'streaming', name: 'cka', ...resultFileOf('cka'), figure: 'cka', phase: 1,
  needs: { residuals: true },
  init: (ctx) => new CkaAnalysis(ctx.model.config.nLayers, ctx.model.config.dModel, ctx.model.backend, ckaOptionsFor(ctx)),
  add: (ck, b, out) => ck.addBatch(out.points.slice(1), b.batch, b.seq),
  seal: (ck) => ck.seal(),
  merge: (a, b) => a.merge(b),
  encode: (ck) => encodeState(ck.toState()),
  decode: (bytes, ctx) => CkaAnalysis.fromState(decodeState(bytes), ctx.model.backend, ckaOptionsFor(ctx)),
  result: (ck, ctx) => ({
    choices: {
      ...ck.choices(),
      ...(ctx.opts.protocol === 'paper'
        ? { paper_protocol: "all_tokens as jinhl9's representation_similarity.py (BOS included, whole documents, centred residuals); last_token after the paper's App. C text (no released code), its residuals raw as layerlab's (marked)" }
        : {}),
    },
    body: { ...ck.finish() },
  }),
};
