/**
 * Per-token sweep metrics (paper-spec §4), accumulated by streaming: a batch's logits are turned into
 * per-token values and folded into running accumulators; nothing of size [tokens x vocab] outlives a batch.
 *
 * Positions of a window [BOS, x1, ..., x_{T-1}] (row t holds the logits at position t):
 * - label metrics (loss = -ln q(x_{t+1}), next-token accuracy): t = 0..T-2, every predicted token,
 *   including the first real token predicted from BOS alone;
 * - comparison metrics (KL(P_orig || Q_int) in nats, top-1 agreement, entropy in bits): t = 1..T-1,
 *   every position after BOS, the last one (which has no label) included — as the paper's code.
 * Means pool tokens (every token weighs the same); std is the token-level sample std; sem is the
 * standard error across documents (sample std of per-document means / sqrt(documents)).
 */
import type { Backend } from '../backend/index.js';
import { DocStats, type DocStatsState, type DocStatsSummary } from '../stats/doc-stats.js';
import { clampEntropies } from './clamped-entropy.js';

/** Earlier names of the stats module's accumulator, kept for callers. */
export { DocStats as DocPooledStats };
export type { DocStatsSummary as MetricSummary, DocStatsState as DocPooledJSON };

/** The token layout of one batch: B windows of T tokens, each row's document. */
export interface BatchLayout {
  ids: Int32Array;
  batch: number;
  seq: number;
  /** Document number of each window (length batch). */
  windowDoc: readonly number[];
  /**
   * Real length of each window when shorter ones are right-padded to `seq` (default: all `seq`). Padding
   * after a window's end cannot change its logits (causal attention); padded rows are never scored.
   */
  lengths?: readonly number[];
  /** Clamp probabilities at this floor in the entropy, as the authors' code (`--protocol paper`); default exact. */
  entropyFloor?: number;
}

/** Baseline logits of a batch and their per-row statistics; kept while the batch's plans run. */
export class BaselineBatch {
  readonly rows: number;
  readonly lse: Float64Array;
  readonly argmax: Int32Array;
  readonly entropyBits: Float64Array;

  constructor(readonly backend: Backend, readonly logits: Float32Array, readonly layout: BatchLayout, readonly vocab: number) {
    this.rows = layout.batch * layout.seq;
    if (logits.length !== this.rows * vocab) throw new Error(`baseline logits: expected ${this.rows * vocab} values, got ${logits.length}`);
    this.lse = new Float64Array(this.rows);
    this.argmax = new Int32Array(this.rows);
    this.entropyBits = new Float64Array(this.rows);
    backend.logitStats(logits, this.rows, vocab, this.lse, this.argmax, this.entropyBits);
    if (layout.entropyFloor !== undefined) clampEntropies(logits, this.rows, vocab, this.lse, this.entropyBits, layout.entropyFloor);
  }
}

/** Baseline model's own metrics (accumulated once per batch, not per plan). */
export class BaselineAccumulator {
  accuracy = new DocStats();
  loss = new DocStats();
  entropy = new DocStats();

  addBatch(base: BaselineBatch): void {
    const { ids, seq: T, windowDoc, lengths } = base.layout;
    const V = base.vocab;
    for (let r = 0; r < base.rows; r++) {
      const t = r % T, b = (r - t) / T, doc = windowDoc[b], len = lengths ? lengths[b] : T;
      if (t >= len) continue;
      if (t + 1 < len) {
        const target = ids[r + 1];
        this.loss.add(doc, base.lse[r] - base.logits[r * V + target]);
        this.accuracy.add(doc, base.argmax[r] === target ? 1 : 0);
      }
      if (t >= 1) this.entropy.add(doc, base.entropyBits[r]);
    }
  }

  toJSON() {
    return { accuracy: this.accuracy.toJSON(), loss: this.loss.toJSON(), entropy: this.entropy.toJSON() };
  }

  /** Folds another shard's accumulator into this one. */
  merge(o: BaselineAccumulator): this {
    this.accuracy.merge(o.accuracy);
    this.loss.merge(o.loss);
    this.entropy.merge(o.entropy);
    return this;
  }

  static fromJSON(j: ReturnType<BaselineAccumulator['toJSON']>): BaselineAccumulator {
    const a = new BaselineAccumulator();
    a.accuracy = DocStats.fromJSON(j.accuracy);
    a.loss = DocStats.fromJSON(j.loss);
    a.entropy = DocStats.fromJSON(j.entropy);
    return a;
  }
}

const PLAN_METRICS = ['kl', 'agreement', 'accuracy', 'loss', 'entropy'] as const;
export type PlanMetric = (typeof PLAN_METRICS)[number];

/** One intervened plan's metrics against the baseline. */
export class PlanAccumulator {
  kl = new DocStats();
  agreement = new DocStats();
  accuracy = new DocStats();
  loss = new DocStats();
  entropy = new DocStats();

  /**
   * Adds rows r0..r0+n-1 of the batch, given the intervened logits of exactly those rows ([n, V]).
   * Uses the backend's native row statistics and KL.
   */
  addRows(base: BaselineBatch, logits: Float32Array, r0: number, n: number): void {
    const V = base.vocab, be = base.backend;
    const { ids, seq: T, windowDoc, lengths } = base.layout;
    const lse = new Float64Array(n), arg = new Int32Array(n), ent = new Float64Array(n), kl = new Float64Array(n);
    be.logitStats(logits, n, V, lse, arg, ent);
    if (base.layout.entropyFloor !== undefined) clampEntropies(logits, n, V, lse, ent, base.layout.entropyFloor);
    be.klRows(base.logits.subarray(r0 * V, (r0 + n) * V), logits, n, V, base.lse.subarray(r0, r0 + n), lse, kl);
    for (let i = 0; i < n; i++) {
      const r = r0 + i, t = r % T, b = (r - t) / T, doc = windowDoc[b], len = lengths ? lengths[b] : T;
      if (t >= len) continue;
      if (t + 1 < len) {
        const target = ids[r + 1];
        this.loss.add(doc, lse[i] - logits[i * V + target]);
        this.accuracy.add(doc, arg[i] === target ? 1 : 0);
      }
      if (t >= 1) {
        this.kl.add(doc, kl[i]);
        this.agreement.add(doc, arg[i] === base.argmax[r] ? 1 : 0);
        this.entropy.add(doc, ent[i]);
      }
    }
  }

  toJSON(): Record<PlanMetric, DocStatsState> {
    return { kl: this.kl.toJSON(), agreement: this.agreement.toJSON(), accuracy: this.accuracy.toJSON(), loss: this.loss.toJSON(), entropy: this.entropy.toJSON() };
  }

  /** Folds another shard's accumulator into this one. */
  merge(o: PlanAccumulator): this {
    for (const m of PLAN_METRICS) this[m].merge(o[m]);
    return this;
  }

  static fromJSON(j: Record<PlanMetric, DocStatsState>): PlanAccumulator {
    const a = new PlanAccumulator();
    for (const m of PLAN_METRICS) a[m] = DocStats.fromJSON(j[m]);
    return a;
  }
}
