import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, type Backend, type WeightDtype } from '../../src/backend/index.js';
import { NativeBackend } from '../../src/backend/native-backend.js';
import type { ModelConfig } from '../../src/model/config.js';
import { forward } from '../../src/model/forward.js';
import { gpt2SmallConfig, randomModel, SeededRandom } from '../../src/model/random.js';

/**
 * Batch-composition invariance of the native backend, bit for bit: a token's logits and hooked activations
 * are the same whether its window runs alone or inside a batch of any size, with any neighbours, padded to
 * any length. This is what makes runs with different shard sizes agree exactly (src/backend/row-blocks.ts).
 */

/** Every native kernel a weight product can take on this CPU, each with the reason it is absent. */
function kernels(): Array<{ name: string; dtype: WeightDtype; make?: () => Backend; skip?: string }> {
  const withF32 = (kernel: 'openblas' | 'onednn') => () => {
    const saved = process.env.LAYERLAB_F32_KERNEL;
    process.env.LAYERLAB_F32_KERNEL = kernel;
    try {
      const be = NativeBackend.load();
      be.f32Kernel(); // decided now, while the variable is set
      return be;
    } finally {
      if (saved === undefined) delete process.env.LAYERLAB_F32_KERNEL;
      else process.env.LAYERLAB_F32_KERNEL = saved;
    }
  };
  const bf16Native = NativeBackend.load().info().bf16Native;
  return [
    { name: 'f32 OpenBLAS', dtype: 'f32', make: withF32('openblas') },
    { name: 'f32 oneDNN sgemm', dtype: 'f32', make: withF32('onednn') },
    { name: 'bf16 oneDNN (packed)', dtype: 'bf16', make: bf16Native ? () => NativeBackend.load() : undefined, skip: bf16Native ? undefined : 'this CPU has no bf16 instructions (AVX512-BF16 or AMX): the packed oneDNN path is not used' },
    { name: 'bf16 via f32 (OpenBLAS)', dtype: 'bf16', make: () => NativeBackend.load({ bf16: 'via-f32' }) },
  ];
}

const rng = new SeededRandom(11);
const randn = (n: number) => rng.fillNormal(new Float32Array(n), 1);
const sameBits = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

// GPT-2-small's four matrices (768 x 768 takes OpenBLAS's small-matrix kernel at one row) and a tiny model's.
const SHAPES: Array<[number, number]> = [[768, 768], [768, 2304], [3072, 768], [64, 172]];
const ROWS = [1, 2, 7, 15, 16, 17, 63, 64, 65, 255, 256, 257, 600];

for (const k of kernels()) {
  test(`${k.name}: a row's product is the same bitwise for every row count and place in the call`, { skip: k.skip }, () => {
    const be = k.make!();
    for (const threads of [1, 2]) {
      be.setThreads(threads);
      for (const [inDim, outDim] of SHAPES) {
        const w = be.prepareWeight({ data: randn(inDim * outDim).map((v) => v * 0.05), layout: 'out_in', inDim, outDim }, k.dtype);
        const row = randn(inDim);
        const alone = new Float32Array(outDim);
        be.matmul(row, w, 1, alone);
        for (const rows of ROWS)
          for (const at of new Set([0, rows >> 1, rows - 1])) {
            const x = randn(rows * inDim);
            x.set(row, at * inDim);
            const out = new Float32Array(rows * outDim);
            be.matmul(x, w, rows, out);
            assert.ok(sameBits(out.subarray(at * outDim, (at + 1) * outDim), alone), `${inDim}x${outDim}, ${threads} threads: row ${at} of ${rows} differs from the row alone`);
          }
      }
    }
    be.setThreads(NativeBackend.load().info().threads);
  });
}

const tiny: ModelConfig = {
  family: 'llama', modelType: 'llama', nLayers: 2, dModel: 64, nHeads: 8, nKvHeads: 4, dHead: 8, dMlp: 172, vocabSize: 512, nCtx: 512,
  norm: 'rmsnorm', normEps: 1e-5, positional: 'rotary', rope: { dims: 8, theta: 10000 }, block: 'sequential', gatedMlp: true, act: 'silu',
  attnBias: false, attnOutBias: false, mlpBias: false, unembedBias: false, tiedEmbeddings: false, bosTokenId: 1, eosTokenId: 2,
};
const gpt2Shaped: ModelConfig = { ...gpt2SmallConfig(), nLayers: 1, vocabSize: 3000 };
const HOOKS = ['blocks.0.hook_resid_post', 'blocks.0.hook_attn_out', 'blocks.0.hook_mlp_out', 'blocks.0.attn.hook_z'];

/** The target window's rows of the logits and of every hooked activation, run as row `before` of a batch padded to `seq`. */
function windowIn(model: ReturnType<typeof randomModel>, target: number[], before: number, after: number, seq: number): Float32Array[] {
  const V = model.config.vocabSize, len = target.length;
  const words = (n: number) => Array.from({ length: n }, () => Math.floor(rng.uniform() * V));
  const rows = [...Array.from({ length: before }, () => words(seq)), [...target, ...Array(seq - len).fill(target[0])], ...Array.from({ length: after }, () => words(seq))];
  const r = forward(model, rows, { cache: HOOKS });
  const pick = (data: Float32Array) => {
    const w = data.length / (rows.length * seq);
    return data.slice(before * seq * w, (before * seq + len) * w);
  };
  return [pick(r.logits!.data), ...HOOKS.map((h) => pick(r.cache.get(h)!.data))];
}

function assertInvariant(k: ReturnType<typeof kernels>[number], config: ModelConfig, batches: Array<[number, number, number]>): void {
  const model = randomModel(config, 5, k.make!(), k.dtype);
  for (const len of [1, 9, 70]) {
    const target = Array.from({ length: len }, () => Math.floor(rng.uniform() * config.vocabSize));
    const alone = windowIn(model, target, 0, 0, len);
    for (const [before, after, pad] of batches) {
      const got = windowIn(model, target, before, after, len + pad);
      const differ = got.flatMap((t, i) => (sameBits(t, alone[i]) ? [] : [i ? HOOKS[i - 1] : 'logits']));
      assert.deepEqual(differ, [], `window of ${len} as row ${before} of ${before + after + 1} (seq ${len + pad}): ${differ.join(', ')} differ`);
    }
  }
}

for (const k of kernels())
  for (const config of [tiny, gpt2Shaped]) {
    const name = `${k.name}, ${config.modelType} d=${config.dModel}`;
    test(`${name}: a window's logits and activations do not depend on the other windows of its batch, bit for bit`, { skip: k.skip }, () =>
      assertInvariant(k, config, [[1, 0, 0], [0, 3, 0], [5, 6, 0], [40, 30, 0]]));
    // Padding a window to a longer batch: the tiled attention kernel (AVX-512) computes each query row over
    // the keys it sees only, so nothing changes; the BLAS fallback (native/attention.cc) cuts queries into
    // blocks of 64 up to the batch's length, which moves z by ~1e-7 and logits by up to ~7e-7 of their scale.
    const paddedSkip = k.skip ?? (getBackend().info().kernels?.attention === 'tiled-avx512' ? undefined : 'the BLAS attention fallback (no AVX-512) depends on the padded length in the last bits');
    test(`${name}: a window padded to a longer batch gives the same values, bit for bit`, { skip: paddedSkip }, () =>
      assertInvariant(k, config, [[0, 0, 7], [2, 1, 7], [0, 0, 64]]));
  }

// The packed bf16 path shares its fixed 32-row blocks among the threads, each block one single-threaded
// oneDNN call (native/bf16.cc), so the thread count cannot change a result either; here 1 vs 2 threads, for
// row counts below, at and across the block size, dense and as a column block of a wider output.
{
  const k = kernels().find((c) => c.name === 'bf16 oneDNN (packed)')!;
  test('bf16 oneDNN (packed): products are the same bitwise at 1 and 2 threads, dense or strided', { skip: k.skip }, () => {
    const be = k.make!();
    for (const [inDim, outDim] of [...SHAPES, [768, 5000] as [number, number]]) {
      const w = be.prepareWeight({ data: randn(inDim * outDim).map((v) => v * 0.05), layout: 'out_in', inDim, outDim }, 'bf16');
      for (const rows of [7, 32, 33, 95, 600]) {
        const x = randn(rows * inDim), ld = outDim + 3;
        const at = (threads: number) => {
          be.setThreads(threads);
          const dense = new Float32Array(rows * outDim), wide = new Float32Array(rows * ld);
          be.matmul(x, w, rows, dense);
          be.matmul(x, w, rows, wide, ld);
          return { dense, wide };
        };
        const one = at(1), two = at(2);
        assert.ok(sameBits(one.dense, two.dense), `${inDim}x${outDim}, ${rows} rows: 1 and 2 threads differ`);
        assert.ok(sameBits(one.wide, two.wide), `${inDim}x${outDim}, ${rows} rows, ldOut ${ld}: 1 and 2 threads differ`);
        for (let r = 0; r < rows; r++)
          assert.ok(sameBits(one.wide.subarray(r * ld, r * ld + outDim), one.dense.subarray(r * outDim, (r + 1) * outDim)), `${inDim}x${outDim}, row ${r} of ${rows}: strided output differs from dense`);
      }
    }
    be.setThreads(NativeBackend.load().info().threads);
  });
}
