/**
 * Why the bf16 unembedding is packed in blocks of unembedBlockRows(D) vocabulary rows (src/model/weights.ts):
 * GFLOP/s of one packed block of W_U (768 wide, GPT-2-small) against 1024 activation rows, for several block
 * sizes, writing a dense output and writing a column block of the full [rows, 50257] logits (as the
 * unembedding does). CPU time, so it can be read on a shared machine; run with LAYERLAB_THREADS=1.
 * Usage: node dist/bench/unembed-blocks.js [reps]
 */
import { NativeBackend } from '../src/backend/native-backend.js';
import { SeededRandom } from '../src/model/random.js';
import { cpuMs } from './dtype-bench.js';

const reps = Number(process.argv[2] ?? 3);
const be = NativeBackend.load();
if (!be.info().bf16Native) {
  console.log('no bf16 instructions here: nothing to measure');
  process.exit(0);
}
const D = 768, V = 50257, rows = 1024;
const rng = new SeededRandom(1);
const x = rng.fillNormal(new Float32Array(rows * D), 1);
for (const block of [8192, 4096, 2048, 1024, 512]) {
  const w = be.prepareWeight({ data: rng.fillNormal(new Float32Array(block * D), 0.02), layout: 'out_in', inDim: D, outDim: block }, 'bf16');
  const cells = [];
  for (const [label, ld] of [['dense', block], ['into logits', V]] as const) {
    const out = new Float32Array(rows * ld);
    be.matmul(x, w, rows, out, ld); // warm-up (primitive, pages)
    const t = cpuMs();
    for (let i = 0; i < reps; i++) be.matmul(x, w, rows, out, ld);
    const ms = (cpuMs() - t) / reps;
    cells.push(`${label} ${((2 * rows * D * block) / ms / 1e6).toFixed(0)} GFLOP/s`);
  }
  console.log(`block ${block} vocabulary rows: ${cells.join(', ')}`);
}
