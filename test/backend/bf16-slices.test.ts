/**
 * Large bf16 weights are packed as column slices of a few MB (native/bf16.cc), so every 32-row block reads
 * them from cache. Slicing must not change a single bit: each output element is the same K-long sum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NativeBackend } from '../../src/backend/native-backend.js';
import { f32ToBf16 } from '../../src/load/dtype.js';
import { SeededRandom } from '../../src/model/random.js';

const native = NativeBackend.load();
const skip = native.info().bf16Native ? false : 'no bf16 instructions on this CPU: bf16 weights are not packed (via f32)';
const rng = new SeededRandom(11);
const randn = (n: number, std = 1) => rng.fillNormal(new Float32Array(n), std);
// 1024 x 4608 bf16 = 9 MB: above the 8 MB where slicing starts (three slices of 1536 columns).
const K = 1024, N = 4608, rows = 70;

/** The weight with LAYERLAB_BF16_SLICES as given while it is packed. */
function packed(data: Float32Array, layout: 'in_out' | 'out_in', inDim: number, outDim: number, slices?: '0') {
  const saved = process.env.LAYERLAB_BF16_SLICES;
  if (slices) process.env.LAYERLAB_BF16_SLICES = slices;
  try {
    return native.prepareWeight({ data, layout, inDim, outDim }, 'bf16');
  } finally {
    if (saved === undefined) delete process.env.LAYERLAB_BF16_SLICES;
    else process.env.LAYERLAB_BF16_SLICES = saved;
  }
}

test('a sliced bf16 weight gives bit for bit the products of the whole weight, on both layouts, dense and strided outputs', { skip }, () => {
  const x = randn(rows * K);
  for (const layout of ['in_out', 'out_in'] as const) {
    const w = randn(K * N, 0.05);
    const sliced = packed(w, layout, K, N), whole = packed(w, layout, K, N, '0');
    for (const ld of [N, N + 5]) {
      const a = new Float32Array(rows * ld), b = new Float32Array(rows * ld);
      native.matmul(x, sliced, rows, a, ld);
      native.matmul(x, whole, rows, b, ld);
      assert.deepEqual(a, b, `${layout}, ld ${ld}`);
      // Not a vacuous equality: every output element was written (the products of random data are non-zero).
      assert.equal(a.filter((v, i) => i % ld < N && v === 0).length, 0);
    }
  }
});

test('a sliced bf16 weight matches the products of its column blocks packed one by one', { skip }, () => {
  const x = randn(rows * K), w = randn(K * N, 0.05);
  const out = new Float32Array(rows * N), byBlock = new Float32Array(rows * N);
  native.matmul(x, packed(w, 'in_out', K, N), rows, out);
  for (let c0 = 0; c0 < N; c0 += 1000) {
    const nb = Math.min(1000, N - c0), block = new Float32Array(K * nb);
    for (let k = 0; k < K; k++) block.set(w.subarray(k * N + c0, k * N + c0 + nb), k * nb);
    native.matmul(x, packed(block, 'in_out', K, nb), rows, byBlock.subarray(c0), N);
  }
  assert.deepEqual(out, byBlock);
});

test('a sliced bf16 weight unpacks to its rounded values in its own layout', { skip }, () => {
  const w = randn(K * N, 0.05);
  const want = new Uint16Array(w.length);
  f32ToBf16(w, want);
  for (const layout of ['in_out', 'out_in'] as const) {
    const p = packed(w, layout, K, N);
    assert.deepEqual(native.weightValues(p), want, layout);
  }
});
