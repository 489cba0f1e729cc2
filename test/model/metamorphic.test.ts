import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forward } from '../../src/model/forward.js';
import { loadModelDir } from '../../src/model/model.js';
import { fixturePath } from '../helpers/shared.js';
import { maxAbsDiff, openGolden } from '../helpers/golden.js';

for (const name of ['gpt2', 'gpt_neox', 'phi', 'llama']) {
  const g = openGolden(name);
  const model = loadModelDir(fixturePath('golden', name));
  const L = model.config.nLayers;
  const ids = g.expected.input_ids;

  test(`${name}: swapping a pair twice is the identity plan, bit for bit`, () => {
    const base = forward(model, ids).logits!.data;
    // swap(0,1) then swap(0,1) again as a permutation of the plan
    const once = [1, 0, ...Array.from({ length: L - 2 }, (_, i) => i + 2)];
    const twice = [once[1], once[0], ...once.slice(2)];
    assert.deepEqual(twice, Array.from({ length: L }, (_, i) => i));
    assert.deepEqual(forward(model, ids, { plan: twice }).logits!.data, base);
    assert.ok(maxAbsDiff(forward(model, ids, { plan: once }).logits!.data, base) > 1e-3, 'a single swap must change the logits');
  });

  test(`${name}: deleting block l equals zeroing its attention and MLP outputs`, () => {
    for (let l = 0; l < L; l++) {
      const deleted = forward(model, ids, { plan: Array.from({ length: L }, (_, i) => i).filter((i) => i !== l) }).logits!.data;
      const zero = (t: { data: Float32Array }) => new Float32Array(t.data.length);
      const zeroed = forward(model, ids, {
        hooks: [
          { name: `blocks.${l}.hook_attn_out`, fn: zero },
          { name: `blocks.${l}.hook_mlp_out`, fn: zero },
        ],
      }).logits!.data;
      assert.ok(maxAbsDiff(deleted, zeroed) < 1e-5, `block ${l}: ${maxAbsDiff(deleted, zeroed)}`);
    }
  });

  test(`${name}: residual stream identities hold (resid_post = resid_pre + attn_out + mlp_out; logits = unembed(ln_final))`, () => {
    const res = forward(model, ids, { cache: ['blocks.*.hook_resid_pre', 'blocks.*.hook_resid_post', 'blocks.*.hook_attn_out', 'blocks.*.hook_mlp_out'] });
    for (let l = 0; l < L; l++) {
      const pre = res.cache.get(`blocks.${l}.hook_resid_pre`)!.data, post = res.cache.get(`blocks.${l}.hook_resid_post`)!.data;
      const a = res.cache.get(`blocks.${l}.hook_attn_out`)!.data, m = res.cache.get(`blocks.${l}.hook_mlp_out`)!.data;
      const sum = pre.map((v, i) => v + a[i] + m[i]);
      assert.ok(maxAbsDiff(sum, post) < 1e-5);
      if (l > 0) assert.deepEqual(pre, res.cache.get(`blocks.${l - 1}.hook_resid_post`)!.data);
    }
  });
}

test('hooks see slot and source layer, and a replacement changes downstream activations', () => {
  const model = loadModelDir(fixturePath('golden', 'llama'));
  const seen: Array<[number | undefined, number | undefined]> = [];
  forward(model, openGolden('llama').expected.input_ids, { plan: [2, 0], hooks: [{ name: 'blocks.*.hook_resid_post', fn: (_t, ctx) => void seen.push([ctx.slot, ctx.layer]) }] });
  assert.deepEqual(seen, [[0, 2], [1, 0]]);
  assert.throws(() => forward(model, [[1, 2, 3]], { hooks: [{ name: 'blocks.0.hook_resid_post', fn: () => new Float32Array(3) }] }), /returned shape/);
});

test('a hook that replaces the attention pattern with uniform causal attention is honoured', () => {
  const model = loadModelDir(fixturePath('golden', 'gpt2'));
  const ids = [[1, 2, 3, 4, 5, 6]];
  const uniform = (t: { data: Float32Array; shape: number[] }) => {
    const [B, H, T] = t.shape;
    const out = new Float32Array(t.data.length);
    for (let m = 0; m < B * H; m++) for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) out[(m * T + i) * T + j] = 1 / (i + 1);
    return out;
  };
  const res = forward(model, ids, { hooks: [{ name: 'blocks.0.attn.hook_pattern', fn: uniform }], cache: ['blocks.0.attn.hook_pattern', 'blocks.0.attn.hook_z'] });
  const p = res.cache.get('blocks.0.attn.hook_pattern')!.data;
  assert.equal(p[(0 * 6 + 3) * 6 + 1], 1 / 4);
  const base = forward(model, ids).logits!.data;
  assert.ok(maxAbsDiff(res.logits!.data, base) > 1e-4);
});
