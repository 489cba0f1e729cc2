import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalAttentionAccumulator } from '../../src/analyses/local-attention.js';
import { localAttentionWindows, previousTokensMeanEntry } from '../../src/analyses/math/attention-windows.js';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { openGolden } from '../helpers/golden.js';

/** [B, H, T, T] causal pattern from a rule. */
function pattern(B: number, H: number, T: number, rule: (b: number, h: number, q: number, k: number) => number): Float32Array {
  const A = new Float32Array(B * H * T * T);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < T; q++) {
        let s = 0;
        for (let k = 0; k <= q; k++) s += rule(b, h, q, k);
        for (let k = 0; k <= q; k++) A[((b * H + h) * T + q) * T + k] = rule(b, h, q, k) / s;
      }
  return A;
}

test('hand-built patterns: previous-token head, BOS sink and uniform give the window totals by hand', () => {
  const T = 6;
  // head 0: all weight on the previous token; head 1: all weight on BOS (key 0).
  const A = pattern(1, 2, T, (_b, h, q, k) => (h === 0 ? (q === 0 || k === q - 1 ? 1 : 0) : k === 0 ? 1 : 0));
  const acc = new LocalAttentionAccumulator(1, { windows: [1, 2, 16] });
  acc.addPattern(0, A, [1, 2, T, T], [0]);
  const r = acc.perLayer()[0];
  // Queries 1..5. Head 0: S_k = 1 for every k. Head 1: S_k(q) = 1 iff q <= k (BOS within reach).
  // k=1: (1 + [1,0,0,0,0])/2 per query -> mean (5 + 1)/10 = 0.6; k=2: (5 + 2)/10; k=16: (5 + 5)/10.
  assert.ok(Math.abs(r.windows['1'].mean! - 0.6) < 1e-7);
  assert.ok(Math.abs(r.windows['2'].mean! - 0.7) < 1e-7);
  assert.ok(Math.abs(r.windows['16'].mean! - 1) < 1e-7);
  assert.equal(r.windows['1'].n, 5);
  // Without BOS: queries 2..5, the sink head contributes 0.
  const noBos = new LocalAttentionAccumulator(1, { windows: [1, 16], includeBos: false });
  noBos.addPattern(0, A, [1, 2, T, T], [0]);
  const n = noBos.perLayer()[0];
  assert.ok(Math.abs(n.windows['1'].mean! - 0.5) < 1e-7);
  assert.ok(Math.abs(n.windows['16'].mean! - 0.5) < 1e-7);
  assert.equal(n.windows['1'].n, 4);
});

test('accumulator equals the math functions on random patterns, pooled over rows; prev5 is one value per window', () => {
  const B = 3, H = 4, T = 9;
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const A = pattern(B, H, T, () => 0.05 + rand());
  for (const includeBos of [true, false]) {
    const acc = new LocalAttentionAccumulator(1, { includeBos });
    acc.addPattern(0, A, [B, H, T, T], [0, 1, 2]);
    const r = acc.perLayer()[0];
    const ref = localAttentionWindows(A, [B, H, T, T], { includeBos });
    ref.windows.forEach((k, i) => assert.ok(Math.abs(r.windows[String(k)].mean! - ref.windowTotals[i]) < 1e-6, `k=${k}`));
    // Windows are non-decreasing in k and totals stay within [0, 1].
    const means = ref.windows.map((k) => r.windows[String(k)].mean!);
    means.forEach((m, i) => assert.ok(m >= (means[i - 1] ?? 0) - 1e-12 && m <= 1 + 1e-9));
    const per = Array.from({ length: B }, (_, b) => previousTokensMeanEntry(A.subarray(b * H * T * T, (b + 1) * H * T * T), [H, T, T], { includeBos }));
    assert.equal(r.prev5.n, B);
    assert.ok(Math.abs(r.prev5.mean! - per.reduce((x, y) => x + y) / B) < 1e-9);
    assert.ok(r.prev5.sem! > 0);
  }
});

test('on a golden model the accumulator reads hook_pattern of every layer', () => {
  const g = openGolden('gpt_neox');
  const model = loadModelDir(g.dir);
  const L = model.config.nLayers;
  const acc = new LocalAttentionAccumulator(L);
  forward(model, g.expected.input_ids, { skipLogits: true, hooks: [{ name: 'blocks.*.attn.hook_pattern', fn: (t, ctx) => void acc.addPattern(ctx.slot!, t.data, t.shape, [0, 1]) }] });
  const probs = g.tensors.readF32('attn_probs');
  const { batch: B, seq_len: T } = g.expected;
  const H = model.config.nHeads;
  const per = acc.perLayer();
  for (let l = 0; l < L; l++) {
    const ref = localAttentionWindows(probs.subarray(l * B * H * T * T, (l + 1) * B * H * T * T), [B, H, T, T]);
    ref.windows.forEach((k, i) => assert.ok(Math.abs(per[l].windows[String(k)].mean! - ref.windowTotals[i]) < 1e-5));
    assert.equal(per[l].relative_depth, l / (L - 1));
  }
  const back = LocalAttentionAccumulator.fromJSON(JSON.parse(JSON.stringify(acc.toJSON())));
  assert.deepEqual(back.perLayer(), per);
});
