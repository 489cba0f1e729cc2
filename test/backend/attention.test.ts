import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, JsBackend, type AttentionDims } from '../../src/backend/index.js';
import { SeededRandom } from '../../src/model/random.js';
import { maxAbsDiff } from '../helpers/golden.js';

const native = getBackend();
const js = new JsBackend();
const rng = new SeededRandom(7);

// Shapes that reach every edge of the tiled kernel: T = 1, T not a multiple of the 8-row / 32-key tiles,
// GQA groups, head sizes below, between and above its 16/64-column chunks, sliding windows of 1 and more.
const cases: Array<AttentionDims & { label: string }> = [
  { label: 'GPT-2 head size, T = 67', batch: 1, seq: 67, heads: 3, kvHeads: 3, headDim: 64, scale: 1 / 8 },
  { label: 'GQA 6 over 2, T = 45', batch: 2, seq: 45, heads: 6, kvHeads: 2, headDim: 16, scale: 0.25 },
  { label: 'T = 1', batch: 3, seq: 1, heads: 2, kvHeads: 1, headDim: 64, scale: 1 / 8 },
  { label: 'head size 5, T = 33', batch: 1, seq: 33, heads: 2, kvHeads: 2, headDim: 5, scale: 1 / Math.sqrt(5) },
  { label: 'head size 80, T = 64', batch: 1, seq: 64, heads: 2, kvHeads: 1, headDim: 80, scale: 1 / Math.sqrt(80) },
  { label: 'head size 128, T = 130', batch: 1, seq: 130, heads: 2, kvHeads: 2, headDim: 128, scale: 1 / Math.sqrt(128) },
  { label: 'sliding window 17, GQA, T = 100', batch: 2, seq: 100, heads: 4, kvHeads: 2, headDim: 32, scale: 1 / Math.sqrt(32), window: 17 },
  { label: 'sliding window 40, T = 97', batch: 1, seq: 97, heads: 2, kvHeads: 1, headDim: 64, scale: 1 / 8, window: 40 },
  { label: 'sliding window 1', batch: 1, seq: 20, heads: 2, kvHeads: 2, headDim: 8, scale: 1 / Math.sqrt(8), window: 1 },
];

/** Runs the native fused attention with LAYERLAB_ATTENTION set as given (the addon reads it on every call). */
function nativeAttention(kernel: string | undefined, view: Parameters<typeof native.attention>[0], d: AttentionDims, withPattern: boolean) {
  const saved = process.env.LAYERLAB_ATTENTION;
  if (kernel === undefined) delete process.env.LAYERLAB_ATTENTION;
  else process.env.LAYERLAB_ATTENTION = kernel;
  try {
    const out = new Float32Array(d.batch * d.seq * d.heads * d.headDim).fill(NaN);
    const pattern = withPattern ? new Float32Array(d.batch * d.heads * d.seq * d.seq).fill(NaN) : undefined;
    native.attention(view, out, pattern, d);
    return { out, pattern };
  } finally {
    if (saved === undefined) delete process.env.LAYERLAB_ATTENTION;
    else process.env.LAYERLAB_ATTENTION = saved;
  }
}

for (const kernel of [undefined, 'blas']) {
  const name = kernel ?? native.info().kernels.attention;
  test(`fused attention (${name}) matches the float64 reference on strided q/k/v, GQA, sliding windows, T = 1, ragged tiles`, () => {
    for (const d of cases) {
      // q, k and v strided inside a wider fused projection, with padding columns on both sides.
      const ld = 5 + (d.heads + 2 * d.kvHeads) * d.headDim + 3;
      const qkv = rng.fillNormal(new Float32Array(d.batch * d.seq * ld), 1.5);
      const view = { qkv, ld, qCol: 5, kCol: 5 + d.heads * d.headDim, vCol: 5 + (d.heads + d.kvHeads) * d.headDim };
      const outRef = new Float32Array(d.batch * d.seq * d.heads * d.headDim), patRef = new Float32Array(d.batch * d.heads * d.seq * d.seq);
      js.attention(view, outRef, patRef, d);
      const { out, pattern } = nativeAttention(kernel, view, d, true);
      assert.ok(maxAbsDiff(out, outRef) < 1e-5, `${d.label}: output differs by ${maxAbsDiff(out, outRef)}`);
      assert.ok(maxAbsDiff(pattern!, patRef) < 1e-6, `${d.label}: pattern differs by ${maxAbsDiff(pattern!, patRef)}`);
      // Masked keys (future, or outside the window) get exactly 0.
      for (let m = 0; m < d.batch * d.heads; m++)
        for (let i = 0; i < d.seq; i++)
          for (let j = 0; j < d.seq; j++)
            if (j > i || (d.window !== undefined && i - j >= d.window)) assert.equal(pattern![(m * d.seq + i) * d.seq + j], 0);
      // Without a pattern buffer the output is the same, bit for bit.
      assert.deepEqual(nativeAttention(kernel, view, d, false).out, out, `${d.label}: output depends on the pattern buffer`);
    }
  });
}

test('the tiled and BLAS kernels agree on the GPT-2-small shape (B=2, T=256, 12 heads of 64)', () => {
  const d: AttentionDims = { batch: 2, seq: 256, heads: 12, kvHeads: 12, headDim: 64, scale: 1 / 8 };
  const ld = 3 * 12 * 64;
  const view = { qkv: rng.fillNormal(new Float32Array(d.batch * d.seq * ld), 2), ld, qCol: 0, kCol: 768, vCol: 1536 };
  const tiled = nativeAttention(undefined, view, d, false).out, blas = nativeAttention('blas', view, d, false).out;
  assert.ok(maxAbsDiff(tiled, blas) < 1e-5, `differ by ${maxAbsDiff(tiled, blas)}`);
});
