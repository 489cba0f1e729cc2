/**
 * Local-attention metrics for one layer's attention pattern (paper spec §5.1a), the "detokenization"
 * signature: early heads put most of their weight on the few tokens just before the query.
 *
 * The pattern is post-softmax, row-major, shape [H, T, T] (one sequence) or [B, H, T, T]; A[q, k] is
 * the weight query q puts on key k (causal: k <= q). Each function returns means for this one pattern;
 * callers accumulate them across documents with running-stats.
 *
 * Two metrics:
 *
 * 1. Window totals (camera-ready, k ∈ {1, 2, 4, 8, 16}): per head and query,
 *      S_k(q) = Σ_{i=1..min(k, q)} A[q, q−i]
 *    — the **total** weight on the preceding k tokens, not a per-token mean — averaged with equal weight
 *    over every (batch, head, query). Queries are those with at least one eligible preceding key:
 *    q >= 1 when the BOS key may count, q >= 2 when it is excluded. The same queries are used for every
 *    k, so S_k is non-decreasing in k.
 *    `includeBos: false` drops key 0 from the sums (only i with q − i >= 1 count), so a BOS attention
 *    sink does not pass for local attention. A NaN in the pattern propagates (the caller decides to skip).
 *
 * 2. v1 "previous-5" (the authors' notebook, Fig. 1): every sub-diagonal entry A[h, q, q−i] for offsets
 *    i = 1..5 and q = i..T−1, pooled over heads, offsets (and batch), then a NaN-skipping mean. This is
 *    the mean **per (query, offset) entry**, about S_5/5, and it includes the BOS key (q − i = 0) as
 *    the notebook does, unless `includeBos: false`.
 */

export interface AttentionShape {
  batch: number;
  heads: number;
  tokens: number;
}

export interface LocalAttentionOptions {
  /** Window sizes k (default [1, 2, 4, 8, 16]); positive integers. */
  windows?: number[];
  /** Whether key position 0 (BOS) counts as a preceding token (default true). */
  includeBos?: boolean;
}

export interface LocalAttentionResult {
  windows: number[];
  /** Mean over (batch, head, query) of S_k(q), one entry per window. NaN when no query qualifies. */
  windowTotals: number[];
  /** Number of (batch, head, query) rows averaged. */
  rows: number;
}

export const DEFAULT_ATTENTION_WINDOWS = [1, 2, 4, 8, 16];

/** Validates a [H, T, T] or [B, H, T, T] shape against the data length. */
export function attentionShape(pattern: ArrayLike<number>, shape: number[]): AttentionShape {
  if (shape.length !== 3 && shape.length !== 4) throw new Error(`attention pattern shape must be [H, T, T] or [B, H, T, T], got [${shape.join(', ')}]`);
  const [batch, heads, q, k] = shape.length === 4 ? shape : [1, ...shape];
  for (const v of shape) if (!Number.isInteger(v) || v < 1) throw new Error(`attention pattern shape must hold positive integers, got [${shape.join(', ')}]`);
  if (q !== k) throw new Error(`attention pattern must be square in its last two dims (queries = keys), got ${q}×${k}`);
  if (pattern.length !== batch * heads * q * k) {
    throw new Error(`attention pattern has ${pattern.length} values but shape [${shape.join(', ')}] needs ${batch * heads * q * k}`);
  }
  return { batch, heads, tokens: q };
}

/** Window totals S_k averaged over (batch, head, query); see the module comment. */
export function localAttentionWindows(pattern: Float32Array | Float64Array, shape: number[], opts: LocalAttentionOptions = {}): LocalAttentionResult {
  const { batch, heads, tokens: T } = attentionShape(pattern, shape);
  const windows = opts.windows ?? DEFAULT_ATTENTION_WINDOWS;
  if (windows.length === 0) throw new Error('localAttentionWindows: windows must not be empty');
  for (const k of windows) if (!Number.isInteger(k) || k < 1) throw new Error(`localAttentionWindows: window sizes must be positive integers, got ${k}`);
  const includeBos = opts.includeBos ?? true;
  const firstKey = includeBos ? 0 : 1;
  const firstQuery = firstKey + 1;
  const maxK = Math.max(...windows);

  const sums = new Float64Array(windows.length);
  // prefix[i] = Σ_{j=1..i} A[q, q−j], the running total over offsets for the current row.
  const prefix = new Float64Array(maxK + 1);
  let rows = 0;
  for (let bh = 0; bh < batch * heads; bh++) {
    const base = bh * T * T;
    for (let q = firstQuery; q < T; q++) {
      const row = base + q * T;
      const reach = Math.min(maxK, q - firstKey); // offsets whose key is eligible
      for (let i = 1; i <= maxK; i++) prefix[i] = prefix[i - 1] + (i <= reach ? pattern[row + q - i] : 0);
      for (let w = 0; w < windows.length; w++) sums[w] += prefix[windows[w]];
      rows++;
    }
  }
  return { windows: [...windows], windowTotals: Array.from(sums, (s) => (rows === 0 ? NaN : s / rows)), rows };
}

/**
 * Per offset i = 1..maxOffset (index i of the arrays): the sum and the count of the entries A[h, q, q−i]
 * over every (batch, head) and query q with q − i >= firstKey (0, or 1 without BOS), NaN entries skipped
 * as numpy's `nanmean` skips them. The authors' `extract_top_k_sub_diagonals_mean(matrix, k)` is
 * Σ_{i<=k} sums[i] / Σ_{i<=k} counts[i] (`meanOverOffsets`).
 */
export function subDiagonalSums(pattern: Float32Array | Float64Array, shape: number[], maxOffset: number, opts: { includeBos?: boolean } = {}): { sums: Float64Array; counts: Float64Array } {
  const { batch, heads, tokens: T } = attentionShape(pattern, shape);
  if (!Number.isInteger(maxOffset) || maxOffset < 1) throw new Error(`subDiagonalSums: maxOffset must be a positive integer, got ${maxOffset}`);
  const firstKey = (opts.includeBos ?? true) ? 0 : 1;
  const sums = new Float64Array(maxOffset + 1), counts = new Float64Array(maxOffset + 1);
  for (let bh = 0; bh < batch * heads; bh++) {
    const base = bh * T * T;
    for (let i = 1; i <= maxOffset; i++) {
      let s = 0, c = 0;
      for (let q = i + firstKey; q < T; q++) {
        const v = pattern[base + q * T + q - i];
        if (Number.isNaN(v)) continue;
        s += v;
        c++;
      }
      sums[i] += s;
      counts[i] += c;
    }
  }
  return { sums, counts };
}

/** Σ_{i=1..k} sums[i] and Σ counts[i]: the entries of the first k sub-diagonals. */
export function firstOffsets(d: { sums: Float64Array; counts: Float64Array }, k: number): { sum: number; count: number } {
  let sum = 0, count = 0;
  for (let i = 1; i <= k; i++) {
    sum += d.sums[i];
    count += d.counts[i];
  }
  return { sum, count };
}

/**
 * The v1 metric: NaN-skipping mean of the entries A[h, q, q−i], i = 1..offsets, q >= i (default 5
 * offsets, BOS key included as in the authors' code). NaN when there is no entry (T = 1).
 */
export function previousTokensMeanEntry(pattern: Float32Array | Float64Array, shape: number[], opts: { offsets?: number; includeBos?: boolean } = {}): number {
  const offsets = opts.offsets ?? 5;
  if (!Number.isInteger(offsets) || offsets < 1) throw new Error(`previousTokensMeanEntry: offsets must be a positive integer, got ${offsets}`);
  const { sum, count } = firstOffsets(subDiagonalSums(pattern, shape, offsets, opts), offsets);
  return count === 0 ? NaN : sum / count;
}
