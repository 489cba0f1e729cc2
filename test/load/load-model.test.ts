import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/load/load-model.js';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { openGolden } from '../helpers/golden.js';

test('loadModel takes --dtype as an option: bf16 computes what loadModelDir in bf16 computes; default f32', async () => {
  const g = openGolden('llama_tied_bf16');
  const ids = [[1, 5, 9, 3]];
  const f32 = await loadModel(g.dir);
  assert.equal(f32.dtype, 'f32');
  const bf16 = await loadModel(g.dir, { dtype: 'bf16' });
  assert.equal(bf16.dtype, 'bf16');
  const viaDir = loadModelDir(g.dir, {}, bf16.backend, { dtype: 'bf16' });
  assert.deepEqual(forward(bf16, ids).logits!.data, forward(viaDir, ids).logits!.data);
  // bf16 really changes the numbers (the weights are rounded matmul inputs), so the option is not ignored.
  assert.notDeepEqual(forward(bf16, ids).logits!.data, forward(f32, ids).logits!.data);
});
