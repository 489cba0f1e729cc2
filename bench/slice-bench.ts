/**
 * What packing large bf16 weights as column slices buys (native/bf16.cc): GFLOP/s of one matmul of 4096
 * rows through a weight packed whole (LAYERLAB_BF16_SLICES=0) and the same weight sliced, alternating rep
 * by rep in one process, with a check that both give the same bits. Shapes: Llama-1B's gate|up
 * (2048 -> 16384), down (8192 -> 2048) and q|k|v (2048 -> 3072); GPT-2-small's 768 -> 3072 stays whole.
 * Usage: node dist/bench/slice-bench.js [reps]   (wall time, both threads: run it on a quiet machine)
 */
import { NativeBackend } from '../src/backend/native-backend.js';
import { SeededRandom } from '../src/model/random.js';
import { median } from './dtype-bench.js';

const reps = Number(process.argv[2] ?? 6);
const be = NativeBackend.load();
if (!be.info().bf16Native) {
  console.log('no bf16 instructions here: bf16 weights are not packed, nothing to measure');
  process.exit(0);
}
const rows = 4096;
const rng = new SeededRandom(1);
for (const [K, N] of [[2048, 16384], [8192, 2048], [2048, 3072], [768, 3072]]) {
  const x = rng.fillNormal(new Float32Array(rows * K), 1), w = rng.fillNormal(new Float32Array(K * N), 0.02);
  const sliced = be.prepareWeight({ data: w, layout: 'in_out', inDim: K, outDim: N }, 'bf16');
  process.env.LAYERLAB_BF16_SLICES = '0';
  const whole = be.prepareWeight({ data: w, layout: 'in_out', inDim: K, outDim: N }, 'bf16');
  delete process.env.LAYERLAB_BF16_SLICES;
  const outs = { whole: new Float32Array(rows * N), sliced: new Float32Array(rows * N) };
  const rate: Record<'whole' | 'sliced', number[]> = { whole: [], sliced: [] };
  for (let r = -1; r < reps; r++)
    for (const [name, pw] of [['whole', whole], ['sliced', sliced]] as const) {
      const t = performance.now();
      be.matmul(x, pw, rows, outs[name]);
      if (r >= 0) rate[name].push((2 * rows * K * N) / (performance.now() - t) / 1e6);
    }
  const same = outs.whole.every((v, i) => v === outs.sliced[i]);
  console.log(`${K} -> ${N} (${((2 * K * N) / 2 ** 20).toFixed(1)} MB bf16): whole ${median(rate.whole).toFixed(0)} GFLOP/s, sliced ${median(rate.sliced).toFixed(0)} GFLOP/s (median of ${reps}); bit-identical: ${same}`);
}
