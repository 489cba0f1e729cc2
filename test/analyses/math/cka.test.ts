import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CkaAccumulator, unbiasedHsic, zeroDiagonalGram } from '../../../src/analyses/math/cka.js';
import { makeRng, normalMatrix } from './random.js';

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} != ${expected} (tol ${tol})`);

// ---- Brute force, written straight from the formula with dense matrices (independent of cka.ts). ----

function denseGram(X: Float32Array | Float64Array, n: number, d: number): number[][] {
  const K = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += X[a * d + c] * X[b * d + c];
    K[a][b] = a === b ? 0 : s;
  }
  return K;
}

function matmul(A: number[][], B: number[][]): number[][] {
  const n = A.length;
  return A.map((row) => Array.from({ length: n }, (_, j) => row.reduce((s, v, k) => s + v * B[k][j], 0)));
}

function bruteHsic(K: number[][], L: number[][]): number {
  const n = K.length;
  const KL = matmul(K, L);
  const trace = KL.reduce((s, row, i) => s + row[i], 0);
  const sumAll = (M: number[][]) => M.reduce((s, row) => s + row.reduce((t, v) => t + v, 0), 0);
  return (trace + (sumAll(K) * sumAll(L)) / ((n - 1) * (n - 2)) - (2 * sumAll(KL)) / (n - 2)) / (n * (n - 3));
}

/** Brute-force minibatch CKA: average HSIC per pair over batches, then normalize. */
function bruteCka(batches: { X: Float32Array[]; n: number; dims: number[] }[]): number[][] {
  const L = batches[0].X.length;
  const sum = Array.from({ length: L }, () => new Array<number>(L).fill(0));
  for (const { X, n, dims } of batches) {
    const grams = X.map((x, i) => denseGram(x, n, dims[i]));
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) sum[i][j] += bruteHsic(grams[i], grams[j]) / batches.length;
  }
  return sum.map((row, i) => row.map((v, j) => v / Math.sqrt(sum[i][i] * sum[j][j])));
}

/** A random d×d orthogonal matrix by Gram–Schmidt on Gaussian columns (row-major, float64). */
function randomOrthogonal(d: number, seed: number): Float64Array {
  const rng = makeRng(seed);
  const cols: Float64Array[] = [];
  for (let c = 0; c < d; c++) {
    const v = new Float64Array(d).map(() => rng.normal());
    for (const u of cols) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += u[k] * v[k];
      for (let k = 0; k < d; k++) v[k] -= dot * u[k];
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  const Q = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) Q[r * d + c] = cols[c][r];
  return Q;
}

function rightMultiply(X: Float32Array, n: number, d: number, Q: Float64Array): Float64Array {
  const out = new Float64Array(n * d);
  for (let a = 0; a < n; a++) for (let c = 0; c < d; c++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += X[a * d + k] * Q[k * d + c];
    out[a * d + c] = s;
  }
  return out;
}

// ---- Tests ----

test('zeroDiagonalGram matches the dense Gram, including d wider than one cache tile', () => {
  const rng = makeRng(1);
  for (const [n, d] of [[5, 3], [6, 600]] as const) {
    const X = normalMatrix(rng, n, d);
    const K = zeroDiagonalGram(X, n, d);
    const ref = denseGram(X, n, d);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) close(K[a * n + b], ref[a][b], 1e-9 * d, `K[${a},${b}]`);
  }
});

test('unbiasedHsic agrees with the dense formula', () => {
  const rng = makeRng(2);
  const n = 7;
  const K = denseGram(normalMatrix(rng, n, 4), n, 4);
  const L = denseGram(normalMatrix(rng, n, 3), n, 3);
  const flat = (M: number[][]) => Float64Array.from(M.flat());
  close(unbiasedHsic(flat(K), flat(L), n), bruteHsic(K, L), 1e-10);
});

test('accumulated CKA agrees with a brute-force float64 implementation over several batches', () => {
  const rng = makeRng(3);
  const dims = [3, 5, 2];
  const batches = [6, 9, 4].map((n) => ({ n, dims, X: dims.map((d) => normalMatrix(rng, n, d)) }));
  // Make layer 1 partly depend on layer 0 so the off-diagonal entries are not all near 0.
  for (const b of batches) for (let a = 0; a < b.n; a++) for (let c = 0; c < 3; c++) b.X[1][a * 5 + c] += 2 * b.X[0][a * 3 + c];
  const acc = new CkaAccumulator(3);
  for (const b of batches) acc.addBatch(b.X, b.n, b.dims);
  const expected = bruteCka(batches);
  const got = acc.result();
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) close(got[i][j], expected[i][j], 1e-10, `CKA[${i}][${j}]`);
  assert.ok(got[0][1] > 0.3, `the dependent pair is clearly similar, got ${got[0][1]}`);
  assert.equal(acc.batches, 3);
});

test('CKA(X, X) = 1, symmetric, invariant to orthogonal rotation and isotropic scaling', () => {
  const rng = makeRng(4);
  const n = 24;
  const d = 6;
  const Q = randomOrthogonal(d, 5);
  // Gram–Schmidt sanity: QᵀQ = I.
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += Q[k * d + i] * Q[k * d + j];
    close(s, i === j ? 1 : 0, 1e-12, `QᵀQ[${i},${j}]`);
  }
  const acc = new CkaAccumulator(5);
  for (let batch = 0; batch < 3; batch++) {
    const X = normalMatrix(rng, n, d);
    const Y = normalMatrix(rng, n, 4);
    for (let a = 0; a < n; a++) Y[a * 4] += X[a * d] - X[a * d + 1]; // Y shares some signal with X
    const rotated = rightMultiply(X, n, d, Q);
    const scaled = X.map((v) => 3.5 * v);
    acc.addBatch([X, Float32Array.from(X), Float32Array.from(rotated), scaled, Y], n, [d, d, d, d, 4]);
  }
  const C = acc.result();
  close(C[0][1], 1, 1e-12, 'identical');
  close(C[0][2], 1, 1e-6, 'rotated'); // the rotated copy is stored in float32
  close(C[0][3], 1, 1e-6, 'scaled'); // the scaled copy is rounded to float32
  close(C[2][4], C[0][4], 1e-6, 'rotation leaves similarity to Y unchanged');
  close(C[3][4], C[0][4], 1e-6, 'scaling leaves similarity to Y unchanged');
  for (let i = 0; i < 5; i++) {
    assert.equal(C[i][i], 1);
    for (let j = 0; j < 5; j++) assert.equal(C[i][j], C[j][i]);
  }
  assert.ok(C[0][4] > 0.1 && C[0][4] < 0.9, `partial similarity expected, got ${C[0][4]}`);
});

test('independent random features have CKA near 0 (the unbiased estimator has no small-n floor)', () => {
  const rng = makeRng(6);
  const n = 128;
  const acc = new CkaAccumulator(2);
  for (let batch = 0; batch < 4; batch++) acc.addBatch([normalMatrix(rng, n, 16), normalMatrix(rng, n, 16)], n, [16, 16]);
  const c = acc.result()[0][1];
  assert.ok(Math.abs(c) < 0.03, `|CKA| = ${Math.abs(c)} should be near 0`);
});

test('JSON round trip resumes exactly; merge of shards equals one accumulator', () => {
  const rng = makeRng(7);
  const batches = Array.from({ length: 3 }, () => [normalMatrix(rng, 8, 3), normalMatrix(rng, 8, 2)]);
  const whole = new CkaAccumulator(2);
  for (const b of batches) whole.addBatch(b, 8, [3, 2]);
  const first = new CkaAccumulator(2);
  first.addBatch(batches[0], 8, [3, 2]);
  const resumed = CkaAccumulator.fromJSON(JSON.parse(JSON.stringify(first)));
  resumed.addBatch(batches[1], 8, [3, 2]);
  const shard = new CkaAccumulator(2);
  shard.addBatch(batches[2], 8, [3, 2]);
  resumed.merge(shard);
  assert.equal(resumed.batches, 3);
  const a = resumed.result();
  const b = whole.result();
  close(a[0][1], b[0][1], 1e-14);
  const h = resumed.meanHsic();
  close(h[0][0], whole.meanHsic()[0][0], 1e-12);
});

test('bad arguments throw clear errors and leave the accumulator unchanged', () => {
  const acc = new CkaAccumulator(2);
  const x = new Float32Array(3 * 2);
  assert.throws(() => acc.addBatch([x, x], 3, [2, 2]), /n >= 4/);
  assert.throws(() => acc.addBatch([new Float32Array(8)], 4, [2]), /expected 2 layers/);
  assert.throws(() => acc.addBatch([new Float32Array(8), new Float32Array(7)], 4, [2, 2]), /layer 1 has 7 values/);
  assert.throws(() => acc.addBatch([new Float32Array(8), new Float32Array(8)], 4, [2]), /expected 2 dims/);
  const bad = new Float32Array(8).fill(1);
  bad[0] = NaN;
  assert.throws(() => acc.addBatch([bad, new Float32Array(8).fill(1)], 4, [2, 2]), /non-finite/);
  assert.equal(acc.batches, 0);
  assert.throws(() => acc.result(), /no batches/);
  assert.throws(() => new CkaAccumulator(0), /positive integer/);
  assert.throws(() => CkaAccumulator.fromJSON({ nLayers: 2, batches: 1, hsicSum: [1, 2, 3] }), /nLayers²/);
});

test('a constant layer (zero self-HSIC) gives NaN rather than a division by zero', () => {
  const rng = makeRng(8);
  const acc = new CkaAccumulator(2);
  acc.addBatch([new Float32Array(10 * 2), normalMatrix(rng, 10, 2)], 10, [2, 2]);
  const C = acc.result();
  assert.ok(Number.isNaN(C[0][1]) && Number.isNaN(C[0][0]));
  assert.equal(C[1][1], 1);
});
