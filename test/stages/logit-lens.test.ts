import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { lensLogits, logitLensRows, LogitLensAccumulator } from '../../src/analyses/logit-lens.js';
import { goldenNames, maxAbsDiff, openGolden } from '../helpers/golden.js';
import { needsShared, sharedPath } from '../helpers/shared.js';

const residHooks = ['blocks.0.hook_resid_pre', 'blocks.*.hook_resid_post'];
function points(res: ReturnType<typeof forward>, L: number): Float32Array[] {
  return [res.cache.get('blocks.0.hook_resid_pre')!.data, ...Array.from({ length: L }, (_, l) => res.cache.get(`blocks.${l}.hook_resid_post`)!.data)];
}

for (const name of goldenNames()) {
  test(`logit lens on golden ${name}: logits, entropy and KL(final||layer) match the reference`, () => {
    const g = openGolden(name);
    const model = loadModelDir(g.dir);
    const { batch: B, seq_len: T } = g.expected;
    const L = model.config.nLayers, V = model.config.vocabSize, rows = B * T;
    const res = forward(model, g.expected.input_ids, { cache: residHooks });
    const pts = points(res, L);
    const refLogits = g.tensors.readF32('logit_lens_logits');
    const refEnt = g.tensors.readF32('logit_lens_entropy_bits');
    const refKl = g.tensors.readF32('logit_lens_kl_final_bits');
    for (let i = 0; i <= L; i++) assert.ok(maxAbsDiff(lensLogits(model, pts[i], rows), refLogits, i * rows * V) <= 1e-4, `${name} point ${i}: lens logits`);
    const stats = logitLensRows(model, pts, rows);
    stats.forEach((s, i) => {
      assert.ok(maxAbsDiff(s.entropyBits, refEnt, i * rows) <= 1e-4, `${name} point ${i}: entropy ${maxAbsDiff(s.entropyBits, refEnt, i * rows)}`);
      assert.ok(maxAbsDiff(s.klBits, refKl, i * rows) <= 1e-4, `${name} point ${i}: KL ${maxAbsDiff(s.klBits, refKl, i * rows)}`);
    });
    // The last point is the model's own output distribution: same logits, KL(p||p) = 0, agreement 1, rank 1.
    assert.ok(maxAbsDiff(lensLogits(model, pts[L], rows), res.logits!.data) <= 1e-5);
    assert.ok(stats[L].klBits.every((v) => v === 0));
    assert.ok(stats[L].agreement.every((v) => v === 1));
    assert.ok(stats[L].rank.every((v) => v === 1));
  });
}

test('KL(p||p) = 0 for arbitrary logits (backend.klRows through the lens)', () => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const V = model.config.vocabSize, rows = 3;
  const x = new Float32Array(rows * model.config.dModel).map((_, i) => Math.sin(i * 0.7) * 3);
  const stats = logitLensRows(model, [x, x], rows);
  assert.ok(stats[0].klBits.every((v) => Math.abs(v) < 1e-9));
  assert.ok(stats[0].agreement.every((v) => v === 1));
  assert.equal(V, 96);
});

test('LogitLensAccumulator: after-BOS positions, token counts, JSON round trip', () => {
  const g = openGolden('llama');
  const model = loadModelDir(g.dir);
  const { batch: B, seq_len: T } = g.expected;
  const L = model.config.nLayers;
  const res = forward(model, g.expected.input_ids, { cache: residHooks });
  const acc = new LogitLensAccumulator(L + 1);
  acc.addBatch(model, points(res, L), B, T, [0, 1]);
  const per = acc.perPoint();
  assert.equal(per.length, L + 1);
  assert.equal(per[0].entropy_bits.n, B * (T - 1));
  assert.equal(per[L].kl_bits.mean, 0);
  assert.equal(per[L].agreement.mean, 1);
  assert.equal(per[L].relative_depth, 1);
  // Reference: pooled mean of the stored entropy over positions 1..T-1.
  const ref = g.tensors.readF32('logit_lens_entropy_bits');
  for (let i = 0; i <= L; i++) {
    let s = 0;
    for (let b = 0; b < B; b++) for (let t = 1; t < T; t++) s += ref[(i * B + b) * T + t];
    assert.ok(Math.abs(per[i].entropy_bits.mean! - s / (B * (T - 1))) < 1e-5);
  }
  const back = LogitLensAccumulator.fromJSON(JSON.parse(JSON.stringify(acc.toJSON())));
  assert.deepEqual(back.perPoint(), per);
});

test('stories260k: mean logit-lens entropy and KL per point match expected.json eval (all predicting positions)', needsShared('models', 'stories260k'), () => {
  const dir = sharedPath('models', 'stories260k')!;
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const evalIds = SafetensorsFile.open(join(dir, 'expected.safetensors')).readInts('eval_ids');
  const model = loadModelDir(dir);
  const W = Number(expected.eval.window), L = model.config.nLayers;
  const windows: number[][] = [];
  for (let s = 0; s < evalIds.length; s += W) windows.push([1, ...evalIds.slice(s, s + W)]);
  const res = forward(model, windows, { cache: residHooks, skipLogits: true });
  const acc = new LogitLensAccumulator(L + 1);
  // The reference averages every predicting position: 0..T-2 of each window (BOS included, last excluded).
  acc.addBatch(model, points(res, L), windows.length, W + 1, windows.map((_, i) => i), (t, T) => t <= T - 2);
  const per = acc.perPoint();
  assert.equal(per[0].entropy_bits.n, 2048);
  const wantH = expected.eval.baseline_logit_lens_mean_entropy_bits as number[];
  const wantKl = expected.eval.baseline_logit_lens_mean_kl_final_bits as number[];
  per.forEach((p, i) => {
    assert.ok(Math.abs(p.entropy_bits.mean! - wantH[i]) < 1e-4, `entropy point ${i}: ${p.entropy_bits.mean} vs ${wantH[i]}`);
    assert.ok(Math.abs(p.kl_bits.mean! - wantKl[i]) < 1e-3, `KL point ${i}: ${p.kl_bits.mean} vs ${wantKl[i]}`);
  });
});
