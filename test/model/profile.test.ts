import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const modelDir = fileURLToPath(new URL('../../src/model/', import.meta.url));

/** Runs a 3-block random GPT-2-style forward in a child process with the given environment; returns stderr. */
function forwardIn(env: Record<string, string>): string {
  const script = `
    import { forward } from '${modelDir}forward.js';
    import { gpt2SmallConfig, randomModel } from '${modelDir}random.js';
    const config = { ...gpt2SmallConfig(), nLayers: 3, dModel: 64, nHeads: 4, nKvHeads: 4, dHead: 16, dMlp: 256, vocabSize: 300, nCtx: 64 };
    const model = randomModel(config, 1);
    forward(model, [[1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16]]);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

test('LAYERLAB_PROFILE=1 prints CPU and wall time per forward step with one call per block for each block step', () => {
  const out = forwardIn({ LAYERLAB_PROFILE: '1' });
  const rows = new Map<string, { s: number; wall: number; calls: number }>();
  for (const line of out.split('\n')) {
    const m = /^(.+?)\s+(\d+\.\d{3})\s+(\d+\.\d{3})\s+(?:\d+\.\d{2}|-)\s+(\d+)\s+[\d.]+%$/.exec(line);
    if (m) rows.set(m[1].trim(), { s: Number(m[2]), wall: Number(m[3]), calls: Number(m[4]) });
  }
  // 3 blocks: each runs its four matmuls, attention and activation once, and two residual adds;
  // norms: two per block plus the final one; biases: GPT-2 has one on each of the four matmuls.
  for (const name of ['matmul qkv', 'matmul attn out', 'matmul mlp in', 'matmul mlp out', 'attention', 'activation']) assert.equal(rows.get(name)?.calls, 3, name);
  assert.equal(rows.get('residual add')?.calls, 6);
  assert.equal(rows.get('norm')?.calls, 7);
  assert.equal(rows.get('bias')?.calls, 12);
  assert.equal(rows.get('unembed')?.calls, 1);
  assert.equal(rows.get('embed')?.calls, 1);
  const totals = /^total\s+(\d+\.\d{3})\s+(\d+\.\d{3})\s+(?:\d+\.\d{2}|-)$/m.exec(out);
  assert.ok(totals, out);
  const sum = [...rows.values()].reduce((s, r) => s + r.s, 0), wallSum = [...rows.values()].reduce((s, r) => s + r.wall, 0);
  assert.ok(Math.abs(Number(totals[1]) - sum) < 0.001 * rows.size + 1e-9, `total ${totals[1]} vs sum of rows ${sum}`);
  assert.ok(Math.abs(Number(totals[2]) - wallSum) < 0.001 * rows.size + 1e-9, `wall total ${totals[2]} vs sum of rows ${wallSum}`);
  assert.ok(wallSum > 0, 'the steps took some wall time');
});

test('without LAYERLAB_PROFILE nothing is printed', () => {
  assert.equal(forwardIn({ LAYERLAB_PROFILE: '' }), '');
});
