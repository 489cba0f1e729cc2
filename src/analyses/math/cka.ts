/**
 * Minibatch linear CKA between every pair of layers with the unbiased HSIC estimator (Nguyen, Raghu &
 * Kornblith 2020; paper spec §5.0). Representations for a whole corpus never fit in memory, so each
 * minibatch of n examples contributes one unbiased HSIC estimate per layer pair; the estimates are
 * summed, and CKA is formed from the sums at the end:
 *
 *   K_i = X_i X_iᵀ with the diagonal set to 0                      (n × n, one per layer)
 *   HSIC₁(K, L) = [tr(KL) + (1ᵀK1·1ᵀL1)/((n−1)(n−2)) − 2·1ᵀKL1/(n−2)] / (n(n−3))
 *   CKA_ij = ΣHSIC₁(K_i, K_j) / √(ΣHSIC₁(K_i, K_i) · ΣHSIC₁(K_j, K_j))
 *
 * (The average over batches is the sum divided by the batch count; the count cancels in CKA.) Because
 * the estimator is unbiased, CKA of independent representations tends to 0 as batches accumulate,
 * instead of to the positive floor the biased estimator has at small n.
 *
 * Cost per batch: O(n²·d_i) per layer for the Grams, O(n²) per layer pair for HSIC. Everything is float64.
 */

/** Serialized accumulator state (for resumable runs). */
export interface CkaAccumulatorJSON {
  nLayers: number;
  batches: number;
  /** Row-major [nLayers, nLayers] sums of HSIC₁ over batches (symmetric). */
  hsicSum: number[];
}

/** Columns per tile when computing a Gram: a tile of all n rows (n·TILE floats) stays in cache. */
const GRAM_TILE = 256;

export class CkaAccumulator {
  private readonly hsicSum: Float64Array;
  private batchCount = 0;

  constructor(readonly nLayers: number) {
    if (!Number.isInteger(nLayers) || nLayers < 1) throw new Error(`CkaAccumulator: nLayers must be a positive integer, got ${nLayers}`);
    this.hsicSum = new Float64Array(nLayers * nLayers);
  }

  get batches(): number {
    return this.batchCount;
  }

  /**
   * Adds one minibatch: `features[i]` is layer i's representation, row-major [n, dims[i]] (one row per
   * example; the same n examples in every layer, in the same order).
   */
  addBatch(features: (Float32Array | Float64Array)[], n: number, dims: number[]): void {
    const L = this.nLayers;
    if (features.length !== L) throw new Error(`CkaAccumulator.addBatch: expected ${L} layers of features, got ${features.length}`);
    if (dims.length !== L) throw new Error(`CkaAccumulator.addBatch: expected ${L} dims, got ${dims.length}`);
    if (!Number.isInteger(n) || n < 4) throw new Error(`CkaAccumulator.addBatch: the unbiased HSIC needs n >= 4 examples per batch, got ${n}`);
    for (let i = 0; i < L; i++) {
      if (!Number.isInteger(dims[i]) || dims[i] < 1) throw new Error(`CkaAccumulator.addBatch: dims[${i}] must be a positive integer, got ${dims[i]}`);
      if (features[i].length !== n * dims[i]) {
        throw new Error(`CkaAccumulator.addBatch: layer ${i} has ${features[i].length} values, expected n*d = ${n}*${dims[i]} = ${n * dims[i]}`);
      }
    }

    this.addGrams(features.map((X, i) => zeroDiagonalGram(X, n, dims[i])), n);
  }

  /**
   * Adds one minibatch given each layer's zero-diagonal symmetric Gram [n, n] (for callers that form the
   * Grams another way, e.g. with BLAS). An error leaves the accumulator unchanged.
   */
  addGrams(grams: Float64Array[], n: number): void {
    const L = this.nLayers;
    if (grams.length !== L) throw new Error(`CkaAccumulator.addGrams: expected ${L} Grams, got ${grams.length}`);
    if (!Number.isInteger(n) || n < 4) throw new Error(`CkaAccumulator.addGrams: the unbiased HSIC needs n >= 4 examples per batch, got ${n}`);
    // Per layer, HSIC needs only the Gram, its row sums and its total.
    const parts = grams.map((K) => gramRowSums(K, n));
    const batchHsic = new Float64Array(L * L);
    for (let i = 0; i < L; i++) {
      for (let j = i; j < L; j++) {
        const h = unbiasedHsicFromParts(grams[i], parts[i].rows, parts[i].total, grams[j], parts[j].rows, parts[j].total, n);
        if (!Number.isFinite(h)) throw new Error(`CkaAccumulator.addBatch: non-finite HSIC for layers ${i},${j} (non-finite features?)`);
        batchHsic[i * L + j] = h;
        batchHsic[j * L + i] = h;
      }
    }
    // Commit only after the whole batch succeeded, so an error leaves the accumulator unchanged.
    for (let k = 0; k < L * L; k++) this.hsicSum[k] += batchHsic[k];
    this.batchCount += 1;
  }

  /** Folds in another accumulator over the same layers (e.g. a shard computed elsewhere). */
  merge(other: CkaAccumulator): this {
    if (other.nLayers !== this.nLayers) throw new Error(`CkaAccumulator.merge: layer counts differ (${this.nLayers} vs ${other.nLayers})`);
    for (let k = 0; k < this.hsicSum.length; k++) this.hsicSum[k] += other.hsicSum[k];
    this.batchCount += other.batchCount;
    return this;
  }

  /** Average HSIC₁ over batches, [nLayers][nLayers]. */
  meanHsic(): number[][] {
    if (this.batchCount === 0) throw new Error('CkaAccumulator: no batches added');
    return this.matrix((i, j) => this.hsicSum[i * this.nLayers + j] / this.batchCount);
  }

  /**
   * CKA matrix [nLayers][nLayers]. An entry is NaN when a layer's self-HSIC is not positive (a constant
   * representation, or an unbiased estimate that came out ≤ 0 on too little data).
   */
  result(): number[][] {
    if (this.batchCount === 0) throw new Error('CkaAccumulator: no batches added');
    const L = this.nLayers;
    return this.matrix((i, j) => {
      const selfI = this.hsicSum[i * L + i];
      const selfJ = this.hsicSum[j * L + j];
      if (!(selfI > 0 && selfJ > 0)) return NaN;
      // The diagonal is 1 by definition; writing it exactly avoids a 1 ± 1e-16 from the square root.
      return i === j ? 1 : this.hsicSum[i * L + j] / Math.sqrt(selfI * selfJ);
    });
  }

  toJSON(): CkaAccumulatorJSON {
    return { nLayers: this.nLayers, batches: this.batchCount, hsicSum: Array.from(this.hsicSum) };
  }

  static fromJSON(json: CkaAccumulatorJSON): CkaAccumulator {
    const acc = new CkaAccumulator(json.nLayers);
    if (!Number.isInteger(json.batches) || json.batches < 0) throw new Error(`CkaAccumulator.fromJSON: batches must be a non-negative integer, got ${json.batches}`);
    if (!Array.isArray(json.hsicSum) || json.hsicSum.length !== json.nLayers * json.nLayers) {
      throw new Error(`CkaAccumulator.fromJSON: hsicSum must hold nLayers² = ${json.nLayers * json.nLayers} numbers`);
    }
    acc.hsicSum.set(json.hsicSum);
    acc.batchCount = json.batches;
    return acc;
  }

  private matrix(entry: (i: number, j: number) => number): number[][] {
    return Array.from({ length: this.nLayers }, (_, i) => Array.from({ length: this.nLayers }, (_, j) => entry(i, j)));
  }
}

/**
 * K = X Xᵀ with a zero diagonal, X row-major [n, d]. Each entry is a dot product of two contiguous rows;
 * the columns are processed in tiles so the n row segments of a tile are reused from cache across all
 * n²/2 pairs instead of streaming the whole matrix from memory n times.
 */
export function zeroDiagonalGram(X: Float32Array | Float64Array, n: number, d: number): Float64Array {
  if (X.length !== n * d) throw new Error(`zeroDiagonalGram: expected ${n}*${d} = ${n * d} values, got ${X.length}`);
  const K = new Float64Array(n * n);
  for (let c0 = 0; c0 < d; c0 += GRAM_TILE) {
    const c1 = Math.min(d, c0 + GRAM_TILE);
    for (let a = 0; a < n; a++) {
      const rowA = a * d;
      for (let b = a + 1; b < n; b++) {
        const rowB = b * d;
        let s = 0;
        for (let c = c0; c < c1; c++) s += X[rowA + c] * X[rowB + c];
        K[a * n + b] += s;
      }
    }
  }
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) K[b * n + a] = K[a * n + b];
  return K;
}

/** HSIC₁(K, L) for zero-diagonal symmetric n×n Grams (Nguyen et al. 2020, eq. 3). */
export function unbiasedHsic(K: Float64Array, L: Float64Array, n: number): number {
  if (n < 4) throw new Error(`unbiasedHsic: needs n >= 4, got ${n}`);
  if (K.length !== n * n || L.length !== n * n) throw new Error(`unbiasedHsic: Grams must be ${n}×${n}`);
  const k = gramRowSums(K, n);
  const l = gramRowSums(L, n);
  return unbiasedHsicFromParts(K, k.rows, k.total, L, l.rows, l.total, n);
}

/** Row sums 1ᵀG (G symmetric) and their total 1ᵀG1. */
function gramRowSums(G: Float64Array, n: number): { rows: Float64Array; total: number } {
  const rows = new Float64Array(n);
  let total = 0;
  for (let a = 0; a < n; a++) {
    let s = 0;
    for (let b = 0; b < n; b++) s += G[a * n + b];
    rows[a] = s;
    total += s;
  }
  return { rows, total };
}

/**
 * The estimator from precomputed row sums: for symmetric K, L, tr(KL) = Σ_ab K_ab L_ab and
 * 1ᵀKL1 = (K1)ᵀ(L1), so no n×n product is ever formed.
 */
function unbiasedHsicFromParts(
  K: Float64Array, kRow: Float64Array, kTotal: number,
  L: Float64Array, lRow: Float64Array, lTotal: number,
  n: number,
): number {
  let trace = 0;
  for (let k = 0; k < n * n; k++) trace += K[k] * L[k];
  let rowDot = 0;
  for (let a = 0; a < n; a++) rowDot += kRow[a] * lRow[a];
  return (trace + (kTotal * lTotal) / ((n - 1) * (n - 2)) - (2 * rowDot) / (n - 2)) / (n * (n - 3));
}
