/**
 * The bundled model and corpus (assets/): layerlab's forward pass equals the PyTorch model that trained
 * it (float64 logits exported at training time), its tokenizer equals the training tokenizer, the model
 * has really learned its corpus, deleting a layer measurably hurts (so the bundled report means
 * something), and ASSETS.md's checksums are those of the shipped files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED } from '../../src/load/bundled.js';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { forward } from '../../src/model/forward.js';
import { loadModelDir } from '../../src/model/model.js';
import { fixturePath, repoRoot } from '../helpers/shared.js';

interface Expected {
  input_ids: number[][];
  positions: number[];
  plans: Record<string, { plan: number[]; logits: number[][][] }>;
  tokenizer_cases: Array<{ text: string; ids: number[] }>;
}
const expected = JSON.parse(readFileSync(fixturePath('kjv-tiny-expected.json'), 'utf8')) as Expected;

test('kjv-tiny: logits of three plans match the PyTorch training model (float64) within 1e-4', () => {
  const model = loadModelDir(BUNDLED.modelDir);
  assert.equal(model.config.modelType, 'llama');
  assert.ok(model.config.nKvHeads < model.config.nHeads, 'GQA');
  const V = model.config.vocabSize, T = expected.input_ids[0]!.length;
  assert.deepEqual(Object.keys(expected.plans), ['default', 'delete-2', 'swap-3']);
  for (const [name, p] of Object.entries(expected.plans)) {
    const logits = forward(model, expected.input_ids, { plan: p.plan }).logits!;
    let worst = 0, scale = 0;
    expected.positions.forEach((t, ti) => {
      for (let b = 0; b < expected.input_ids.length; b++)
        for (let v = 0; v < V; v++) {
          const want = p.logits[b]![ti]![v]!;
          worst = Math.max(worst, Math.abs(logits.data[(b * T + t) * V + v]! - want));
          scale = Math.max(scale, Math.abs(want));
        }
    });
    assert.ok(scale > 1, `${name}: logits are not trivially small (max |logit| ${scale})`);
    assert.ok(worst <= 1e-4, `${name}: max |diff| ${worst}`);
  }
});

test('kjv-tiny: tokenizer.json encodes like the training tokenizer and decodes losslessly', () => {
  const tok = loadTokenizer(BUNDLED.modelDir);
  assert.equal(tok.bosTokenId, 0);
  assert.equal(tok.eosTokenId, 1);
  for (const c of expected.tokenizer_cases) {
    assert.deepEqual(tok.encode(c.text), c.ids, c.text.slice(0, 40));
    assert.equal(tok.decode(c.ids), c.text);
  }
});

/** Mean next-token loss (nats) over BOS-led windows of the held-out corpus, for one plan. */
function heldOutLoss(plan: number[] | undefined, windows: number[][]): number {
  const model = loadModelDir(BUNDLED.modelDir);
  const logits = forward(model, windows, plan ? { plan } : {}).logits!;
  const V = model.config.vocabSize, T = windows[0]!.length;
  let sum = 0, n = 0;
  windows.forEach((w, b) => {
    for (let t = 0; t + 1 < T; t++) {
      const row = logits.data.subarray((b * T + t) * V, (b * T + t + 1) * V);
      let mx = -Infinity;
      for (const z of row) mx = Math.max(mx, z);
      let s = 0;
      for (const z of row) s += Math.exp(z - mx);
      sum += mx + Math.log(s) - row[w[t + 1]!]!;
      n++;
    }
  });
  return sum / n;
}

test('kjv-tiny: loss on held-out chapters is far below uniform, and deleting any layer raises it', () => {
  const tok = loadTokenizer(BUNDLED.modelDir);
  const docs = readFileSync(BUNDLED.corpus, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  const windows = docs.slice(0, 16).map((d) => [0, ...tok.encode(d).slice(0, 127)]);
  const V = loadModelDir(BUNDLED.modelDir).config.vocabSize;
  const base = heldOutLoss(undefined, windows);
  assert.ok(base < 0.5 * Math.log(V), `held-out loss ${base} vs uniform ${Math.log(V)}`);
  const L = loadModelDir(BUNDLED.modelDir).config.nLayers;
  for (let l = 0; l < L; l++) {
    const deleted = heldOutLoss([...Array(L).keys()].filter((j) => j !== l), windows);
    assert.ok(deleted > base + 0.03, `deleting layer ${l}: loss ${deleted} vs ${base}`);
  }
});

test('assets/ASSETS.md records the sha256 of every shipped asset file', () => {
  const md = readFileSync(join(repoRoot, 'assets', 'ASSETS.md'), 'utf8');
  const rows = [...md.matchAll(/^\| `([^`]+)` \| `([0-9a-f]{64})` \|/gm)].map((m) => [m[1]!, m[2]!] as const);
  const files = ['corpus.jsonl', 'kjv-tiny/config.json', 'kjv-tiny/model.safetensors', 'kjv-tiny/tokenizer.json', 'kjv-tiny/tokenizer_config.json', 'kjv-tiny/training.json'];
  assert.deepEqual(rows.map((r) => r[0]).sort(), files.map((f) => `assets/${f}`).sort());
  for (const [file, sha] of rows) assert.equal(createHash('sha256').update(readFileSync(join(repoRoot, file))).digest('hex'), sha, file);
});
