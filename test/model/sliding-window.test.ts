import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { maxAbsDiff, openGolden } from '../helpers/golden.js';

test('sliding window: the fused attention kernel and the hooked (unfused) path give the same logits, unlike full causal attention', () => {
  const g = openGolden('mistral');
  const model = loadModelDir(g.dir);
  const ids = g.expected.input_ids; // 18 tokens per sequence: a window of 5 masks most of each row
  const full = forward(model, ids).logits!.data;
  model.config = { ...model.config, slidingWindow: 5 };
  const fused = forward(model, ids).logits!.data;
  // Caching the scores sends attention through scores -> mask -> softmax -> apply, step by step.
  const unfused = forward(model, ids, { cache: ['blocks.*.attn.hook_attn_scores'] }).logits!.data;
  assert.ok(maxAbsDiff(fused, unfused) < 1e-5, `fused vs unfused: ${maxAbsDiff(fused, unfused)}`);
  assert.ok(maxAbsDiff(fused, full) > 1e-3, 'the window changed nothing');
});
