/**
 * Cost of batch-invariant weight products (src/backend/row-blocks.ts): a GPT-2-small forward with and
 * without the row policies, interleaved, best of N, per weight dtype. Usage: node dist/bench/row-blocks.js [reps]
 */
import { BF16_ROWS, F32_ROWS, NativeBackend } from '../src/backend/native-backend.js';
import { forward } from '../src/model/forward.js';
import { gpt2SmallConfig, randomModel } from '../src/model/random.js';

const reps = Number(process.argv[2] ?? 5);
const be = NativeBackend.load();
const saved = { f32: { ...F32_ROWS }, bf16: { ...BF16_ROWS } };
/** Policies on, or off (every product one call of all its rows, as before). */
const setPolicies = (on: boolean) => {
  for (const [policy, was] of [[F32_ROWS, saved.f32], [BF16_ROWS, saved.bf16]] as const) {
    policy.minRows = on ? was.minRows : 1;
    policy.blockRows = on ? was.blockRows : undefined;
  }
};
const c = gpt2SmallConfig();
// Rows per batch: a multiple of the bf16 block, and one that is not (the last block then overlaps).
const shapes: Array<[number, number]> = [[4, 256], [3, 300]];
for (const dtype of ['f32', 'bf16'] as const) {
  if (dtype === 'bf16' && !be.info().bf16Native) { console.log('bf16: no bf16 instructions here, skipped'); continue; }
  const model = randomModel(c, 1, be, dtype);
  for (const [batch, seq] of shapes) {
    const ids = new Int32Array(batch * seq).map((_, i) => (i * 7919) % c.vocabSize);
    const flops = 2 * batch * seq * (c.nLayers * 12 * c.dModel * c.dModel + c.dModel * c.vocabSize);
    const best = { off: Infinity, on: Infinity };
    forward(model, { ids, batch, seq }); // warm-up
    for (let r = 0; r < reps; r++)
      for (const mode of ['off', 'on'] as const) {
        setPolicies(mode === 'on');
        const t = performance.now();
        forward(model, { ids, batch, seq });
        best[mode] = Math.min(best[mode], performance.now() - t);
      }
    setPolicies(true);
    const gf = (ms: number) => (flops / ms / 1e6).toFixed(1);
    console.log(`${dtype} [${batch} x ${seq}]: without ${best.off.toFixed(0)} ms (${gf(best.off)} GFLOP/s), with ${best.on.toFixed(0)} ms (${gf(best.on)} GFLOP/s): ${(100 * (best.on / best.off - 1)).toFixed(1)}%`);
  }
}
