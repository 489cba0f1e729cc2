import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, JsBackend, type AttentionDims } from '../../src/backend/index.js';
import { erf } from '../../src/backend/js-backend.js';
import { SeededRandom } from '../../src/model/random.js';
import { maxAbsDiff } from '../helpers/golden.js';

const native = getBackend();
const js = new JsBackend();
const rng = new SeededRandom(42);
const randn = (n: number, std = 1) => rng.fillNormal(new Float32Array(n), std);

test('native backend is OpenBLAS on a fast core', () => {
  const info = native.info();
  assert.equal(info.name, 'openblas');
  assert.match(info.config, /OpenBLAS/);
  assert.equal(info.warning, undefined, `slow path: ${info.warning}`);
});

test('sgemm matches the float64 reference for every transpose combination, offsets, alpha and beta', () => {
  const m = 7, n = 5, k = 9;
  for (const transA of [false, true])
    for (const transB of [false, true]) {
      const lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 4;
      const a = randn(4 + (transA ? k : m) * lda), b = randn(2 + (transB ? n : k) * ldb);
      const c0 = randn(1 + m * ldc);
      const args = { transA, transB, m, n, k, alpha: 0.5, a, aOffset: 4, lda, b, bOffset: 2, ldb, beta: 0.25, cOffset: 1, ldc };
      const cNative = c0.slice(), cJs = c0.slice();
      native.gemm({ ...args, c: cNative });
      js.gemm({ ...args, c: cJs });
      // the reference by hand
      const want = c0.slice();
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a[4 + (transA ? p * lda + i : i * lda + p)] * b[2 + (transB ? j * ldb + p : p * ldb + j)];
          want[1 + i * ldc + j] = 0.5 * s + 0.25 * c0[1 + i * ldc + j];
        }
      assert.ok(maxAbsDiff(cNative, want) < 1e-5, `native transA=${transA} transB=${transB}`);
      assert.ok(maxAbsDiff(cJs, want) < 1e-5, `js transA=${transA} transB=${transB}`);
    }
});

test('sgemm rejects out-of-bounds views with a RangeError instead of reading past the array', () => {
  const a = new Float32Array(10), b = new Float32Array(10), c = new Float32Array(10);
  assert.throws(() => native.gemm({ transA: false, transB: false, m: 4, n: 4, k: 4, a, b, c }), RangeError);
  assert.throws(() => native.gemm({ transA: false, transB: false, m: 2, n: 2, k: 2, a, aOffset: 8, b, c }), RangeError);
});

test('norms and activations agree with the float64 JavaScript reference', () => {
  const rows = 33, cols = 70;
  const x = randn(rows * cols, 3), w = randn(cols), b = randn(cols);
  for (const [name, run] of [
    ['layerNorm', (be: typeof native, out: Float32Array) => be.layerNorm(x, out, rows, cols, w, b, 1e-5)],
    ['layerNorm without bias', (be: typeof native, out: Float32Array) => be.layerNorm(x, out, rows, cols, w, undefined, 1e-5)],
    ['rmsNorm', (be: typeof native, out: Float32Array) => be.rmsNorm(x, out, rows, cols, w, 1e-6)],
    ['gelu tanh', (be: typeof native, out: Float32Array) => be.gelu(x, out, false)],
    ['gelu erf', (be: typeof native, out: Float32Array) => be.gelu(x, out, true)],
  ] as const) {
    const o1 = new Float32Array(rows * cols), o2 = new Float32Array(rows * cols);
    run(native, o1);
    run(js, o2);
    assert.ok(maxAbsDiff(o1, o2) < 2e-5, `${name}: ${maxAbsDiff(o1, o2)}`);
  }
  const s3 = new Float32Array(rows * cols), r3 = new Float32Array(rows * cols);
  native.add(x, x, x, s3);
  js.add(x, x, x, r3);
  assert.deepEqual(s3, r3, 'add of three');
  const biased = x.slice(), biasedJs = x.slice();
  native.addBias(biased, rows, b);
  js.addBias(biasedJs, rows, b);
  assert.deepEqual(biased, biasedJs, 'addBias');
  assert.equal(biased[5 * cols + 7], x[5 * cols + 7] + b[7]);
  const gu = randn(rows * 2 * cols, 2), s1 = new Float32Array(rows * cols), s2 = new Float32Array(rows * cols);
  native.siluMul(gu, s1, rows, cols);
  js.siluMul(gu, s2, rows, cols);
  assert.ok(maxAbsDiff(s1, s2) < 2e-5, 'siluMul');
});

test('erf reference is accurate to 1e-12 at known values', () => {
  for (const [x, v] of [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [-1.5, -0.9661051464753108]])
    assert.ok(Math.abs(erf(x) - v) < 1e-12, `erf(${x})`);
});

test('causal attention: fused, unfused and reference paths agree on strided q/k/v; masked entries are exactly 0; GQA groups heads', () => {
  const d: AttentionDims = { batch: 2, seq: 70, heads: 4, kvHeads: 2, headDim: 8, scale: 1 / Math.sqrt(8) };
  // A fused projection with padding columns around q, k and v, as a strided view.
  const ld = 3 + (d.heads + 2 * d.kvHeads) * d.headDim + 5;
  const view = { qkv: randn(d.batch * d.seq * ld), ld, qCol: 3, kCol: 3 + d.heads * d.headDim, vCol: 3 + (d.heads + d.kvHeads) * d.headDim };
  const outN = new Float32Array(d.batch * d.seq * d.heads * d.headDim), patN = new Float32Array(d.batch * d.heads * d.seq * d.seq);
  native.attention(view, outN, patN, d);
  const outJ = new Float32Array(outN.length), patJ = new Float32Array(patN.length);
  js.attention(view, outJ, patJ, d);
  assert.ok(maxAbsDiff(outN, outJ) < 1e-5);
  assert.ok(maxAbsDiff(patN, patJ) < 1e-6);
  const scores = new Float32Array(patN.length), outU = new Float32Array(outN.length);
  native.attentionScores(view, scores, d);
  native.softmaxRows(scores, d.batch * d.heads * d.seq, d.seq);
  native.attentionApply(scores, view, outU, d);
  assert.ok(maxAbsDiff(scores, patN) < 1e-6);
  assert.ok(maxAbsDiff(outU, outN) < 1e-5);
  // query head 3 of batch 1 at position 5 attends with kv head 1: check one output entry by hand
  const b = 1, h = 3, i = 5, kvh = 1, row = (t: number) => (b * d.seq + t) * ld;
  const s = Array.from({ length: i + 1 }, (_, j) => {
    let dot = 0;
    for (let e = 0; e < d.headDim; e++) dot += view.qkv[row(i) + view.qCol + h * d.headDim + e] * view.qkv[row(j) + view.kCol + kvh * d.headDim + e];
    return dot * d.scale;
  });
  const m = Math.max(...s), ex = s.map((x) => Math.exp(x - m)), z = ex.reduce((a, c) => a + c, 0);
  let o0 = 0;
  for (let j = 0; j <= i; j++) o0 += (ex[j] / z) * view.qkv[row(j) + view.vCol + kvh * d.headDim];
  assert.ok(Math.abs(outN[(b * d.seq + i) * d.heads * d.headDim + h * d.headDim] - o0) < 1e-5);
  for (let mm = 0; mm < d.batch * d.heads; mm++)
    for (let ii = 0; ii < d.seq; ii++) {
      let sum = 0;
      for (let j = 0; j < d.seq; j++) {
        const p = patN[(mm * d.seq + ii) * d.seq + j];
        if (j > ii) assert.equal(p, 0);
        sum += p;
      }
      assert.ok(Math.abs(sum - 1) < 1e-5);
    }
  assert.throws(() => native.attention({ ...view, vCol: ld - 2 }, outN, undefined, d), RangeError);
});

test('logit statistics and KL match a float64 computation; KL(p,p) = 0', () => {
  const rows = 5, V = 1003;
  const p = randn(rows * V, 4), q = randn(rows * V, 4);
  const lse = new Float64Array(rows), arg = new Int32Array(rows), ent = new Float64Array(rows);
  const lseQ = new Float64Array(rows), kl = new Float64Array(rows), self = new Float64Array(rows);
  native.logitStats(p, rows, V, lse, arg, ent);
  native.logitStats(q, rows, V, lseQ);
  native.klRows(p, q, rows, V, lse, lseQ, kl);
  native.klRows(p, p, rows, V, lse, lse, self);
  for (let r = 0; r < rows; r++) {
    const zp = Array.from(p.subarray(r * V, r * V + V)), zq = Array.from(q.subarray(r * V, r * V + V));
    const lsef = (z: number[]) => { const m = Math.max(...z); return m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0)); };
    const lp = lsef(zp), lq = lsef(zq);
    let h = 0, klRef = 0;
    zp.forEach((z, j) => { const pj = Math.exp(z - lp); h -= pj * (z - lp); klRef += pj * (z - lp - (zq[j] - lq)); });
    assert.ok(Math.abs(lse[r] - lp) < 1e-5);
    assert.equal(arg[r], zp.indexOf(Math.max(...zp)));
    assert.ok(Math.abs(ent[r] - h / Math.LN2) < 1e-5);
    assert.ok(Math.abs(kl[r] - klRef) < 1e-5);
    assert.equal(self[r], 0);
  }
});
