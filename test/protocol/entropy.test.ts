import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsBackend } from '../../src/backend/index.js';
import { BaselineBatch } from '../../src/sweep/metrics.js';
import { clampCorrectionBits, PAPER_ENTROPY_FLOOR } from '../../src/sweep/clamped-entropy.js';
import { BUNDLED } from '../../src/load/bundled.js';
import { loadModelDir } from '../../src/model/model.js';
import { executeSweep } from '../../src/runs/sweep.js';
import { tempDir } from '../data/helpers/temp.js';

/** The authors' formula written out: softmax, clamp at 1e-9, -sum p log2 p (float64). */
function authorsEntropy(z: number[]): number {
  const m = Math.max(...z), e = z.map((x) => Math.exp(x - m)), s = e.reduce((a, b) => a + b, 0);
  return -e.map((x) => Math.max(x / s, 1e-9)).reduce((h, p) => h + p * Math.log2(p), 0);
}
function exactEntropy(z: number[]): number {
  const m = Math.max(...z), e = z.map((x) => Math.exp(x - m)), s = e.reduce((a, b) => a + b, 0);
  return -e.map((x) => x / s).reduce((h, p) => h + (p > 0 ? p * Math.log2(p) : 0), 0);
}

test('the clamp of the authors\' entropy, by hand: logits [0, 0, -30, -40] gain 2 x 1e-9 log2(1e9) - (tiny) = 5.9793e-8 bits', () => {
  const z = [0, 0, -30, -40];
  const lse = Math.log(2 + Math.exp(-30) + Math.exp(-40));
  const add = clampCorrectionBits(Float32Array.from(z), 0, 4, lse, PAPER_ENTROPY_FLOOR);
  // Two tokens below 1e-9 (p = e^-30/2 = 4.7e-14 and e^-40/2 = 2.1e-18): each counts 1e-9 * log2(1e9) = 2.98974e-8
  // instead of its own -p log2 p (2.07e-12 and 1.3e-16 bits).
  assert.ok(Math.abs(add - 5.9793e-8) < 1e-12, String(add));
  assert.ok(Math.abs(add - (authorsEntropy(z) - exactEntropy(z))) < 1e-15);
  // No token below the floor: nothing added.
  assert.equal(clampCorrectionBits(Float32Array.from([0, 1, 2]), 0, 3, Math.log(1 + Math.E + Math.E ** 2), PAPER_ENTROPY_FLOOR), 0);
});

test('BaselineBatch with the paper floor: entropy = exact + the clamp, row by row', () => {
  const rows = [[0, 0, -30, -40], [5, -20, 1, -25], [0, 1, 2, 3]];
  const logits = Float32Array.from(rows.flat());
  const layout = { ids: Int32Array.from([0, 1, 2]), batch: 1, seq: 3, windowDoc: [0] };
  const exact = new BaselineBatch(new JsBackend(), logits, layout, 4);
  const paper = new BaselineBatch(new JsBackend(), logits, { ...layout, entropyFloor: 1e-9 }, 4);
  rows.forEach((z, r) => {
    assert.ok(Math.abs(exact.entropyBits[r]! - exactEntropy(z)) < 1e-9, `exact row ${r}`);
    assert.ok(Math.abs(paper.entropyBits[r]! - authorsEntropy(z)) < 1e-9, `paper row ${r}`);
  });
  assert.ok(paper.entropyBits[0]! > exact.entropyBits[0]! && paper.entropyBits[2] === exact.entropyBits[2]);
});

test('sweep on the same windows: paper and layerlab agree on KL, agreement and loss bit for bit; entropy higher by (0, V x 3e-8]', async () => {
  const root = tempDir('layerlab-entropy-');
  const model = loadModelDir(BUNDLED.modelDir);
  const docs = readFileSync(BUNDLED.corpus, 'utf8').trim().split('\n').slice(0, 3).map((l) => JSON.parse(l).text as string);
  const data = join(root, 'd.jsonl');
  writeFileSync(data, docs.map((t) => JSON.stringify({ text: t })).join('\n') + '\n');
  const run = async (name: string, protocol: 'paper' | 'layerlab') => {
    const out = join(root, name);
    // paper: [BOS] + 63 tokens per document; layerlab with --max-doc-tokens 63: the same windows
    await executeSweep(model, { data, specs: [{ kind: 'delete' }, { kind: 'swap' }], textField: 'text', seqLen: 64, maxDocTokens: protocol === 'layerlab' ? 63 : undefined, batchMb: 64, prefixCacheMb: 16, out, protocol });
    return JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  };
  const lab = await run('lab', 'layerlab'), paper = await run('paper', 'paper');
  const V = model.config.vocabSize;
  assert.equal(paper.interventions.length, lab.interventions.length);
  paper.interventions.forEach((p: Record<string, number>, i: number) => {
    const l = lab.interventions[i];
    for (const k of ['tokens', 'kl_mean', 'kl_sem', 'agreement', 'loss', 'accuracy']) assert.equal(p[k], l[k], `${k} of row ${i}`);
    const d = p.entropy_bits! - l.entropy_bits!;
    assert.ok(d > 0 && d <= V * 2.99e-8, `row ${i}: entropy differs by ${d}`);
  });
  const d0 = paper.baseline.entropy_bits - lab.baseline.entropy_bits;
  assert.ok(d0 > 0 && d0 <= V * 2.99e-8, `baseline entropy differs by ${d0}`);
  assert.match(paper.choices.entropy, /clamped at 1e-9/);
  assert.match(lab.choices.entropy, /computed exactly/);
});
