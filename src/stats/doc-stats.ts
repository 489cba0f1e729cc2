/**
 * The one document-grouped accumulator of layerlab: every per-token metric (sweep KL, agreement, loss,
 * logit-lens entropy, attention windows, MLP norms, ...) is folded into a DocStats.
 *
 * - `mean` pools tokens (every token weighs the same), `std` is the token-level sample std (Welford in
 *   float64, divisor n − 1);
 * - `sem` is the standard error across documents: the sample std of the per-document means / √docs.
 *   Tokens of one document are correlated, so documents are the independent samples. Document means are
 *   taken in ascending document order, so the result does not depend on the order documents arrived in.
 *
 * State is the token moments (n, mean, M2) plus one (count, sum) pair per document, so two accumulators
 * built on separate shards merge (Chan et al. 1979 for the moments, sums for the documents) into what one
 * pass would give, up to rounding. `toJSON`/`toBytes` round trips are exact.
 */
import { RunningStats, type RunningStatsSummary } from './running-stats.js';
import { statFromMoments, statOfValues, type Stat } from './stat.js';

/** Serialized state of a {@link DocStats}: token moments and per-document counts and sums (ascending ids). */
export interface DocStatsState {
  n: number;
  mean: number;
  m2: number;
  ids: number[];
  counts: number[];
  sums: number[];
}

/** Numeric summary (NaN where undefined), as the sweep's flat rows use it. */
export interface DocStatsSummary extends RunningStatsSummary {
  /** Documents with at least one value (the units of `sem`). */
  docs: number;
}

export class DocStats {
  private n = 0;
  private runningMean = 0;
  private m2 = 0;
  private readonly docs = new Map<number, { count: number; sum: number }>();

  /** Adds one value of document `doc` (a non-negative integer). Non-finite values throw. */
  add(doc: number, x: number): this {
    if (!Number.isFinite(x)) throw new Error(`DocStats.add: value must be finite, got ${x} (document ${doc})`);
    this.n += 1;
    const delta = x - this.runningMean;
    this.runningMean += delta / this.n;
    this.m2 += delta * (x - this.runningMean);
    const d = this.docs.get(doc);
    if (d) {
      d.count += 1;
      d.sum += x;
    } else this.docs.set(doc, { count: 1, sum: x });
    return this;
  }

  /** Adds every value of one document, in order; all or none (a non-finite value leaves no trace). */
  addMany(doc: number, values: ArrayLike<number>): this {
    for (let i = 0; i < values.length; i++)
      if (!Number.isFinite(values[i])) throw new Error(`DocStats.addMany: value ${i} must be finite, got ${values[i]} (document ${doc})`);
    for (let i = 0; i < values.length; i++) this.add(doc, values[i]);
    return this;
  }

  /** Folds `other` into this accumulator (parallel variance formulas); a document in both is combined. */
  merge(other: DocStats): this {
    if (other.n > 0) {
      if (this.n === 0) {
        this.n = other.n;
        this.runningMean = other.runningMean;
        this.m2 = other.m2;
      } else {
        const n = this.n + other.n;
        const delta = other.runningMean - this.runningMean;
        this.runningMean += (delta * other.n) / n;
        this.m2 += other.m2 + (delta * delta * this.n * other.n) / n;
        this.n = n;
      }
    }
    for (const [id, d] of other.docs) {
      const mine = this.docs.get(id);
      if (mine) {
        mine.count += d.count;
        mine.sum += d.sum;
      } else this.docs.set(id, { ...d });
    }
    return this;
  }

  /** A new accumulator equal to merging `a` then `b` into an empty one. */
  static merged(a: DocStats, b: DocStats): DocStats {
    return new DocStats().merge(a).merge(b);
  }

  get count(): number {
    return this.n;
  }

  get docCount(): number {
    return this.docs.size;
  }

  get mean(): number {
    return this.n === 0 ? NaN : this.runningMean;
  }

  get std(): number {
    return this.n < 2 ? NaN : Math.sqrt(this.m2 / (this.n - 1));
  }

  /** Standard error across documents (see the file comment). */
  get sem(): number {
    return this.docMeans().sem;
  }

  summary(): DocStatsSummary {
    const means = this.docMeans();
    return { count: this.n, docs: means.count, mean: this.mean, std: this.std, sem: means.sem };
  }

  /** Each document one value (the mean of its values): mean, sample std and sem over the documents. */
  docMeanStat(): Stat {
    return statOfValues(this.docMeans());
  }

  /** The result files' statistic. */
  stat(): Stat {
    const s = this.summary();
    return statFromMoments(s.mean, s.std, s.sem, s.count, s.docs);
  }

  toJSON(): DocStatsState {
    const ids = [...this.docs.keys()].sort((a, b) => a - b);
    return {
      n: this.n, mean: this.runningMean, m2: this.m2, ids,
      counts: ids.map((id) => this.docs.get(id)!.count), sums: ids.map((id) => this.docs.get(id)!.sum),
    };
  }

  static fromJSON(s: DocStatsState): DocStats {
    if (!s || !Array.isArray(s.ids) || !Array.isArray(s.counts) || !Array.isArray(s.sums) || s.ids.length !== s.counts.length || s.ids.length !== s.sums.length)
      throw new Error('DocStats.fromJSON: expected { n, mean, m2, ids[], counts[], sums[] } of equal lengths');
    if (!Number.isInteger(s.n) || s.n < 0 || !Number.isFinite(s.mean) || !Number.isFinite(s.m2) || s.m2 < 0)
      throw new Error('DocStats.fromJSON: token moments must be finite (n a non-negative integer, m2 >= 0)');
    const out = new DocStats();
    out.n = s.n;
    out.runningMean = s.mean;
    out.m2 = s.m2;
    let total = 0;
    s.ids.forEach((id, i) => {
      if (out.docs.has(id)) throw new Error(`DocStats.fromJSON: duplicate document id ${id}`);
      out.docs.set(id, { count: s.counts[i], sum: s.sums[i] });
      total += s.counts[i];
    });
    if (total !== s.n) throw new Error(`DocStats.fromJSON: documents hold ${total} values but the token total says ${s.n}`);
    return out;
  }

  /** Compact binary state: float64 [n, mean, m2, docs, ids..., counts..., sums...] (exact). */
  toBytes(): Uint8Array {
    const s = this.toJSON(), k = s.ids.length;
    const f = new Float64Array(4 + 3 * k);
    f.set([s.n, s.mean, s.m2, k]);
    f.set(s.ids, 4);
    f.set(s.counts, 4 + k);
    f.set(s.sums, 4 + 2 * k);
    return new Uint8Array(f.buffer);
  }

  static fromBytes(bytes: Uint8Array): DocStats {
    if (bytes.byteLength % 8 !== 0 || bytes.byteLength < 32) throw new Error('DocStats.fromBytes: bad length');
    const f = new Float64Array(bytes.byteLength / 8);
    new Uint8Array(f.buffer).set(bytes);
    const k = f[3];
    if (f.length !== 4 + 3 * k) throw new Error('DocStats.fromBytes: length does not match the document count');
    return DocStats.fromJSON({
      n: f[0], mean: f[1], m2: f[2], ids: Array.from(f.subarray(4, 4 + k)), counts: Array.from(f.subarray(4 + k, 4 + 2 * k)), sums: Array.from(f.subarray(4 + 2 * k)),
    });
  }

  private docMeans(): RunningStats {
    const means = new RunningStats();
    for (const id of [...this.docs.keys()].sort((a, b) => a - b)) {
      const d = this.docs.get(id)!;
      means.add(d.sum / d.count);
    }
    return means;
  }
}
