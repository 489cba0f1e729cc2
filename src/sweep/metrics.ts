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
import { RunningStats, type RunningStatsJSON } from '../analyses/math/running-stats.js';

export interface MetricSummary {
  count: number;
  docs: number;
  mean: number;
  std: number;
  sem: number;
}

export interface DocPooledJSON {
  tokens: RunningStatsJSON;
  /** Per-document sums and counts, indexed by document number (0 where a document has no values). */
  docSum: number[];
  docCount: number[];
}

/**
 * Token-pooled mean/std (Welford) plus per-document sums for the across-document standard error.
 * Compact on disk (two numbers per document), and exact through a JSON round trip.
 */
export class DocPooledStats {
  private tokens = new RunningStats();
  private docSum: number[] = [];
  private docCount: number[] = [];

  add(doc: number, x: number): void {
    this.tokens.add(x);
    while (this.docSum.length <= doc) {
      this.docSum.push(0);
      this.docCount.push(0);
    }
    this.docSum[doc] += x;
    this.docCount[doc] += 1;
  }

  summary(): MetricSummary {
    const means = new RunningStats();
    for (let d = 0; d < this.docSum.length; d++) if (this.docCount[d] > 0) means.add(this.docSum[d] / this.docCount[d]);
    return { count: this.tokens.count, docs: means.count, mean: this.tokens.mean, std: this.tokens.std, sem: means.sem };
  }

  toJSON(): DocPooledJSON {
    return { tokens: this.tokens.toJSON(), docSum: [...this.docSum], docCount: [...this.docCount] };
  }

  static fromJSON(j: DocPooledJSON): DocPooledStats {
    const s = new DocPooledStats();
    s.tokens = RunningStats.fromJSON(j.tokens);
    if (!Array.isArray(j.docSum) || !Array.isArray(j.docCount) || j.docSum.length !== j.docCount.length) throw new Error('DocPooledStats.fromJSON: docSum/docCount mismatch');
    s.docSum = j.docSum.map(Number);
    s.docCount = j.docCount.map(Number);
    return s;
  }
}

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
  }
}

/** Baseline model's own metrics (accumulated once per batch, not per plan). */
export class BaselineAccumulator {
  accuracy = new DocPooledStats();
  loss = new DocPooledStats();
  entropy = new DocPooledStats();

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

  static fromJSON(j: ReturnType<BaselineAccumulator['toJSON']>): BaselineAccumulator {
    const a = new BaselineAccumulator();
    a.accuracy = DocPooledStats.fromJSON(j.accuracy);
    a.loss = DocPooledStats.fromJSON(j.loss);
    a.entropy = DocPooledStats.fromJSON(j.entropy);
    return a;
  }
}

const PLAN_METRICS = ['kl', 'agreement', 'accuracy', 'loss', 'entropy'] as const;
export type PlanMetric = (typeof PLAN_METRICS)[number];

/** One intervened plan's metrics against the baseline. */
export class PlanAccumulator {
  kl = new DocPooledStats();
  agreement = new DocPooledStats();
  accuracy = new DocPooledStats();
  loss = new DocPooledStats();
  entropy = new DocPooledStats();

  /**
   * Adds rows r0..r0+n-1 of the batch, given the intervened logits of exactly those rows ([n, V]).
   * Uses the backend's native row statistics and KL.
   */
  addRows(base: BaselineBatch, logits: Float32Array, r0: number, n: number): void {
    const V = base.vocab, be = base.backend;
    const { ids, seq: T, windowDoc, lengths } = base.layout;
    const lse = new Float64Array(n), arg = new Int32Array(n), ent = new Float64Array(n), kl = new Float64Array(n);
    be.logitStats(logits, n, V, lse, arg, ent);
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

  toJSON(): Record<PlanMetric, DocPooledJSON> {
    return { kl: this.kl.toJSON(), agreement: this.agreement.toJSON(), accuracy: this.accuracy.toJSON(), loss: this.loss.toJSON(), entropy: this.entropy.toJSON() };
  }

  static fromJSON(j: Record<PlanMetric, DocPooledJSON>): PlanAccumulator {
    const a = new PlanAccumulator();
    for (const m of PLAN_METRICS) a[m] = DocPooledStats.fromJSON(j[m]);
    return a;
  }
}
