import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { goldenNames, maxAbsDiff, openGolden } from '../helpers/golden.js';

const TOL = 1e-4;

for (const name of goldenNames()) {
  test(`golden ${name}: logits of every plan, hidden states, attention and sublayer outputs within ${TOL}`, () => {
    const g = openGolden(name);
    const model = loadModelDir(g.dir);
    const { batch: B, seq_len: T } = g.expected;
    const L = model.config.nLayers, D = model.config.dModel;
    for (const [planName, plan] of Object.entries(g.expected.plans)) {
      const baseline = planName === 'baseline';
      const res = forward(model, g.expected.input_ids, {
        plan,
        cache: baseline ? ['blocks.0.hook_resid_pre', 'blocks.*.hook_resid_post', 'blocks.*.attn.hook_pattern', 'blocks.*.hook_attn_out', 'blocks.*.hook_mlp_out'] : [],
      });
      const err = maxAbsDiff(res.logits!.data, g.tensors.readF32(`logits_${planName}`));
      assert.ok(err <= TOL, `${name} plan ${planName}: logits max-abs error ${err}`);
      if (!baseline) continue;
      const hidden = g.tensors.readF32('hidden_states');
      const per = B * T * D;
      assert.ok(maxAbsDiff(res.cache.get('blocks.0.hook_resid_pre')!.data, hidden, 0) <= TOL, 'embedding output');
      const H = model.config.nHeads;
      const probs = g.tensors.readF32('attn_probs'), attnOut = g.tensors.readF32('attn_out'), mlpOut = g.tensors.readF32('mlp_out');
      for (let l = 0; l < L; l++) {
        const e = maxAbsDiff(res.cache.get(`blocks.${l}.hook_resid_post`)!.data, hidden, (l + 1) * per);
        assert.ok(e <= TOL, `${name}: hidden state ${l + 1} error ${e}`);
        const p = res.cache.get(`blocks.${l}.attn.hook_pattern`)!;
        assert.deepEqual(p.shape, [B, H, T, T]);
        assert.ok(maxAbsDiff(p.data, probs, l * B * H * T * T) <= TOL, `${name}: attention pattern ${l}`);
        assert.ok(maxAbsDiff(res.cache.get(`blocks.${l}.hook_attn_out`)!.data, attnOut, l * per) <= TOL, `${name}: attn_out ${l}`);
        assert.ok(maxAbsDiff(res.cache.get(`blocks.${l}.hook_mlp_out`)!.data, mlpOut, l * per) <= TOL, `${name}: mlp_out ${l}`);
      }
    }
  });
}
