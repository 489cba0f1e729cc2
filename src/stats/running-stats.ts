/**
 * Streaming mean / standard deviation / standard error, for per-layer metrics gathered over millions of
 * tokens that must never be held in memory at once, and whose partial sums must survive a restart.
 *
 * Conventions (the same everywhere in layerlab):
 * - `std` is the **sample** standard deviation (divisor n − 1), as numpy's `std(ddof=1)`; it is NaN for
 *   fewer than two values, because one value says nothing about spread.
 * - `sem` = std / √n, the standard error of the mean.
 * - An empty accumulator has mean NaN. `JSON.stringify` writes NaN as `null`; `fromJSON` reads it back.
 *
 * Welford's update keeps a running mean and M2 = Σ(x − mean)² in float64, which stays accurate when the
 * values are large and their spread is small (the naive Σx² − n·mean² loses every digit there).
 */

/** Serialized state of a {@link RunningStats}. `m2` makes the round trip exact; it is derived from `std` if absent. */
export interface RunningStatsJSON {
  count: number;
  mean: number | null;
  std: number | null;
  sem: number | null;
  m2?: number;
}

/** Summary of a {@link RunningStats}. */
export interface RunningStatsSummary {
  count: number;
  mean: number;
  std: number;
  sem: number;
}

export class RunningStats {
  private n = 0;
  private runningMean = 0;
  private m2 = 0;

  /** Adds one value. Non-finite values throw: a NaN would silently poison every later statistic. */
  add(x: number): this {
    if (!Number.isFinite(x)) throw new Error(`RunningStats.add: value must be finite, got ${x}`);
    this.n += 1;
    const delta = x - this.runningMean;
    this.runningMean += delta / this.n;
    this.m2 += delta * (x - this.runningMean);
    return this;
  }

  /** Adds every value of an array (same result as calling `add` on each, in order); all or none. */
  addMany(values: ArrayLike<number>): this {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new Error(`RunningStats.addMany: value ${i} must be finite, got ${values[i]}`);
    }
    for (let i = 0; i < values.length; i++) this.add(values[i]);
    return this;
  }

  /**
   * Folds another accumulator into this one (Chan et al. 1979), so that shards computed separately
   * (per worker, per resumed run) combine to what one pass over all values would give.
   */
  merge(other: RunningStats): this {
    if (other.n === 0) return this;
    if (this.n === 0) {
      this.n = other.n;
      this.runningMean = other.runningMean;
      this.m2 = other.m2;
      return this;
    }
    const n = this.n + other.n;
    const delta = other.runningMean - this.runningMean;
    this.runningMean += (delta * other.n) / n;
    this.m2 += other.m2 + (delta * delta * this.n * other.n) / n;
    this.n = n;
    return this;
  }

  get count(): number {
    return this.n;
  }

  get mean(): number {
    return this.n === 0 ? NaN : this.runningMean;
  }

  /** Sample variance (divisor n − 1). */
  get variance(): number {
    return this.n < 2 ? NaN : this.m2 / (this.n - 1);
  }

  /** Sample standard deviation (divisor n − 1). */
  get std(): number {
    return Math.sqrt(this.variance);
  }

  /** Standard error of the mean: sample std / √n. */
  get sem(): number {
    return this.std / Math.sqrt(this.n);
  }

  summary(): RunningStatsSummary {
    return { count: this.n, mean: this.mean, std: this.std, sem: this.sem };
  }

  toJSON(): RunningStatsJSON {
    return { count: this.n, mean: nullIfNaN(this.mean), std: nullIfNaN(this.std), sem: nullIfNaN(this.sem), m2: this.m2 };
  }

  static fromJSON(json: RunningStatsJSON): RunningStats {
    const count = json.count;
    if (!Number.isInteger(count) || count < 0) throw new Error(`RunningStats.fromJSON: count must be a non-negative integer, got ${count}`);
    const stats = new RunningStats();
    if (count === 0) return stats;
    if (json.mean === null || !Number.isFinite(json.mean)) throw new Error('RunningStats.fromJSON: mean missing for a non-empty accumulator');
    let m2 = json.m2;
    if (m2 === undefined) {
      // Older or hand-written state without m2: recover it from the sample std (exact up to rounding).
      m2 = count < 2 ? 0 : (json.std ?? NaN) ** 2 * (count - 1);
    }
    if (!Number.isFinite(m2) || m2 < 0) throw new Error(`RunningStats.fromJSON: m2 must be finite and >= 0, got ${m2}`);
    stats.n = count;
    stats.runningMean = json.mean;
    stats.m2 = m2;
    return stats;
  }
}

function nullIfNaN(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
