import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionShape, localAttentionWindows, previousTokensMeanEntry } from '../../../src/analyses/math/attention-windows.js';

const close = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what} ${actual} != ${expected}`);

/** One head [T, T] built from a rule A[q][k] (0 above the diagonal). */
function head(T: number, rule: (q: number, k: number) => number): Float64Array {
  const A = new Float64Array(T * T);
  for (let q = 0; q < T; q++) for (let k = 0; k <= q; k++) A[q * T + k] = rule(q, k);
  return A;
}
const uniform = (T: number) => head(T, (q) => 1 / (q + 1));
const previousToken = (T: number) => head(T, (q, k) => (q === 0 ? 1 : k === q - 1 ? 1 : 0));
const bosSink = (T: number) => head(T, (_q, k) => (k === 0 ? 1 : 0));
const stack = (...heads: Float64Array[]) => {
  const out = new Float64Array(heads.reduce((s, h) => s + h.length, 0));
  heads.reduce((off, h) => (out.set(h, off), off + h.length), 0);
  return out;
};

test('uniform causal attention A[q][j] = 1/(q+1), T = 4: window totals by hand', () => {
  // Queries 1..3: S_k(q) = min(k, q)/(q+1).
  // k=1: (1/2 + 1/3 + 1/4)/3 = 13/36; k=2: (1/2 + 2/3 + 2/4)/3 = 5/9; k>=3: (1/2 + 2/3 + 3/4)/3 = 23/36.
  const r = localAttentionWindows(uniform(4), [1, 4, 4]);
  assert.deepEqual(r.windows, [1, 2, 4, 8, 16]);
  assert.equal(r.rows, 3);
  [13 / 36, 5 / 9, 23 / 36, 23 / 36, 23 / 36].forEach((v, i) => close(r.windowTotals[i], v, `k=${r.windows[i]}`));
});

test('uniform attention without BOS: queries 2..3 and keys >= 1 only', () => {
  // q=2: key 1 only -> 1/3 for every k. q=3: keys 2,1 -> k=1: 1/4, k>=2: 2/4.
  // k=1: (1/3 + 1/4)/2 = 7/24; k>=2: (1/3 + 1/2)/2 = 5/12.
  const r = localAttentionWindows(uniform(4), [1, 4, 4], { includeBos: false, windows: [1, 2, 3] });
  assert.equal(r.rows, 2);
  [7 / 24, 5 / 12, 5 / 12].forEach((v, i) => close(r.windowTotals[i], v, `k=${i}`));
});

test('one-hot previous-token attention: every window total is 1, with or without BOS', () => {
  for (const includeBos of [true, false]) {
    const r = localAttentionWindows(previousToken(8), [1, 8, 8], { includeBos });
    r.windowTotals.forEach((v) => close(v, 1));
  }
});

test('a BOS attention sink counts as local only when BOS is included', () => {
  // T = 5, queries 1..4 put everything on key 0, which is within k of q iff q <= k.
  const withBos = localAttentionWindows(bosSink(5), [1, 5, 5], { windows: [1, 2, 4] });
  [1 / 4, 2 / 4, 1].forEach((v, i) => close(withBos.windowTotals[i], v));
  const withoutBos = localAttentionWindows(bosSink(5), [1, 5, 5], { windows: [1, 2, 4], includeBos: false });
  withoutBos.windowTotals.forEach((v) => close(v, 0));
});

test('heads and batch entries are averaged with equal weight; [B,H,T,T] pools like more heads', () => {
  const both = stack(uniform(4), previousToken(4));
  const asHeads = localAttentionWindows(both, [2, 4, 4], { windows: [1] });
  const asBatch = localAttentionWindows(both, [2, 1, 4, 4], { windows: [1] });
  close(asHeads.windowTotals[0], (13 / 36 + 1) / 2);
  close(asBatch.windowTotals[0], asHeads.windowTotals[0]);
  assert.equal(asBatch.rows, 6);
  // Float32 input works too.
  close(localAttentionWindows(Float32Array.from(previousToken(4)), [1, 4, 4]).windowTotals[0], 1);
});

test('v1 previous-5 metric is the mean per (query, offset) entry, BOS included by default', () => {
  // One-hot previous token, T = 8: entries for offsets 1..5 number 7+6+5+4+3 = 25, of which the 7 at
  // offset 1 are 1. Without BOS: 6+5+4+3+2 = 20 entries, 6 ones.
  close(previousTokensMeanEntry(previousToken(8), [1, 8, 8]), 7 / 25);
  close(previousTokensMeanEntry(previousToken(8), [1, 8, 8], { includeBos: false }), 6 / 20);
  // Uniform, T = 4: entries 1/2,1/3,1/4 (i=1), 1/3,1/4 (i=2), 1/4 (i=3): sum 23/12 over 6.
  close(previousTokensMeanEntry(uniform(4), [1, 4, 4]), 23 / 72);
  // Without BOS: 1/3, 1/4 (i=1), 1/4 (i=2): sum 5/6 over 3.
  close(previousTokensMeanEntry(uniform(4), [1, 4, 4], { includeBos: false }), 5 / 18);
  // Custom offset count: offset 1 only on the previous-token pattern is all ones.
  close(previousTokensMeanEntry(previousToken(8), [1, 8, 8], { offsets: 1 }), 1);
});

test('v1 metric skips NaN entries (nanmean) and is NaN when there is nothing to average', () => {
  const A = previousToken(3);
  A[2 * 3 + 1] = NaN; // entry (q=2, offset 1)
  // Remaining entries: (1, off 1) = 1, (2, off 2) = 0 -> mean 1/2.
  close(previousTokensMeanEntry(A, [1, 3, 3]), 1 / 2);
  assert.ok(Number.isNaN(previousTokensMeanEntry(new Float32Array([1]), [1, 1, 1])));
  const single = localAttentionWindows(new Float32Array([1]), [1, 1, 1]);
  assert.equal(single.rows, 0);
  assert.ok(Number.isNaN(single.windowTotals[0]));
});

test('bad shapes and windows throw clear errors', () => {
  assert.throws(() => attentionShape(new Float32Array(8), [2, 2]), /\[H, T, T\]/);
  assert.throws(() => attentionShape(new Float32Array(12), [1, 3, 4]), /square/);
  assert.throws(() => attentionShape(new Float32Array(7), [1, 3, 3]), /needs 9/);
  assert.throws(() => attentionShape(new Float32Array(0), [0, 3, 3]), /positive integers/);
  assert.throws(() => localAttentionWindows(uniform(3), [1, 3, 3], { windows: [0] }), /positive integers/);
  assert.throws(() => localAttentionWindows(uniform(3), [1, 3, 3], { windows: [] }), /empty/);
  assert.throws(() => previousTokensMeanEntry(uniform(3), [1, 3, 3], { offsets: 0 }), /offsets/);
});
