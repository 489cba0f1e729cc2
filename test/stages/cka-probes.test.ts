import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { CkaAnalysis, FastCkaAccumulator } from '../../src/analyses/cka-analysis.js';
import { CkaAccumulator } from '../../src/analyses/math/cka.js';
import { hiddenAtPositions, runSpanProbe, type SpanExample } from '../../src/analyses/probes.js';
import { runWicProbe } from '../../src/analyses/wic-probe.js';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { maxAbsDiff, openGolden } from '../helpers/golden.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { charTokenizer } from './helpers.js';
import { decodeState, encodeState } from '../../src/results/state-codec.js';

function residuals(model: ReturnType<typeof loadModelDir>, rows: number[][]): Float32Array[] {
  const res = forward(model, rows, { cache: ['blocks.*.hook_resid_post'], skipLogits: true });
  return Array.from({ length: model.config.nLayers }, (_, l) => res.cache.get(`blocks.${l}.hook_resid_post`)!.data);
}

test('CKA end to end: diagonal 1, symmetric, both samplings, partial last batch, state round trip', () => {
  const g = openGolden('llama_sharded');
  const model = loadModelDir(g.dir);
  const L = model.config.nLayers, D = model.config.dModel, V = model.config.vocabSize;
  const rows = Array.from({ length: 6 }, (_, b) => Array.from({ length: 12 }, (_, t) => (t === 0 ? 1 : (b * 31 + t * 17) % V)));
  const cka = new CkaAnalysis(L, D, model.backend, { batchSize: 4 });
  for (let i = 0; i < 6; i += 2) cka.addBatch(residuals(model, rows.slice(i, i + 2)), 2, 12);
  const copy = CkaAnalysis.fromState(decodeState(encodeState(cka.toState())), model.backend, { batchSize: 4 });
  const r = cka.finish();
  assert.deepEqual(copy.finish(), r);
  // 6 last-token vectors: one full batch of 4, and 2 left over (fewer than 4: not used).
  assert.equal(r.last_token!.batches, 1);
  assert.equal(r.all_tokens!.batches, 6);
  for (const m of [r.last_token!.matrix, r.all_tokens!.matrix]) {
    assert.equal(m.length, L);
    for (let i = 0; i < L; i++) {
      assert.equal(m[i][i], 1);
      for (let j = 0; j < L; j++) assert.ok(Math.abs(m[i][j]! - m[j][i]!) < 1e-12);
    }
  }
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) assert.ok(r.all_tokens!.matrix[i][j]! <= 1 + 1e-9);
});

test('BLAS-Gram CKA accumulator equals the reference CkaAccumulator', () => {
  const model = loadModelDir(openGolden('gpt_neox').dir);
  const L = model.config.nLayers, D = model.config.dModel, V = model.config.vocabSize;
  const fast = new FastCkaAccumulator(L, model.backend), ref = new CkaAccumulator(L);
  for (let b = 0; b < 3; b++) {
    const feats = residuals(model, [Array.from({ length: 10 + b }, (_, t) => (t * 7 + b * 13 + 1) % V)]);
    fast.addBatch(feats, 10 + b, D);
    ref.addBatch(feats, 10 + b, feats.map(() => D));
  }
  const a = fast.result(), e = ref.result();
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) assert.ok(Math.abs(a[i][j] - e[i][j]) < 1e-5, `${i},${j}: ${a[i][j]} vs ${e[i][j]}`);
  assert.equal(fast.batches, 3);
});

test('hiddenAtPositions: right-padded batches give the same states as running each sequence alone', () => {
  const g = openGolden('gpt2');
  const model = loadModelDir(g.dir);
  const L = model.config.nLayers, D = model.config.dModel;
  const seqs = [[5, 6, 7], [5, 9, 10, 11, 12, 13], [8, 1], [4, 4, 4, 4]];
  const pos = [2, 3, 1, 3];
  const got = hiddenAtPositions(model, seqs, pos, { maxBatchTokens: 64 });
  assert.equal(got.length, L + 1);
  seqs.forEach((s, j) => {
    const res = forward(model, [s], { cache: ['blocks.0.hook_resid_pre', 'blocks.*.hook_resid_post'], skipLogits: true });
    const pts = [res.cache.get('blocks.0.hook_resid_pre')!.data, ...Array.from({ length: L }, (_, l) => res.cache.get(`blocks.${l}.hook_resid_post`)!.data)];
    pts.forEach((p, i) => assert.ok(maxAbsDiff(got[i].subarray(j * D, (j + 1) * D), p, pos[j] * D) < 1e-5, `seq ${j} point ${i}`));
  });
});

test('span probe separates labels that the token identity determines (golden phi, char tokenizer)', () => {
  const model = loadModelDir(openGolden('phi').dir);
  const tok = charTokenizer(model.config.vocabSize);
  const ex: SpanExample[] = [];
  for (let i = 0; i < 60; i++) {
    const target = i % 2 === 0 ? 'x' : 'y';
    const text = `${'abc'.slice(0, 1 + (i % 3))} ${target} de`;
    const start = text.indexOf(` ${target}`) + 1;
    ex.push({ text, start, end: start + 1, label: target });
  }
  const r = runSpanProbe(model, tok, 1, ex);
  assert.equal(r.perPoint.length, model.config.nLayers + 1);
  assert.deepEqual(r.examples, { train: 48, dev: 12 });
  assert.deepEqual(r.classes, ['x', 'y']);
  assert.equal(r.perPoint[0].dev_accuracy, 1, 'the embedding of the target token alone separates the classes');
  assert.equal(r.chance, 0.5);
});

test('WiC probe on ../shared/data/wic with stories260k: status, shapes, train/dev sizes', needsShared('data', 'wic', 'train', 'train.data.txt'), (t) => {
  const dir = sharedPath('models', 'stories260k');
  if (!dir) return t.skip('missing ../shared/models/stories260k');
  const model = loadModelDir(dir);
  const tok = loadTokenizer(dir, model.config);
  const r = runWicProbe(model, tok, 1, sharedPath('data', 'wic')!, { maxTrain: 1500 });
  assert.deepEqual(r.examples, { train: 1500, dev: 638 });
  assert.equal(r.chance, 0.5);
  assert.equal(r.perPoint.length, model.config.nLayers + 1);
  r.perPoint.forEach((p, i) => {
    assert.equal(p.point, i);
    assert.ok(p.train_accuracy >= 0.5 && p.train_accuracy <= 1);
    assert.ok(p.dev_accuracy > 0.3 && p.dev_accuracy < 0.75, `dev accuracy near chance for a 260k-parameter model: ${p.dev_accuracy}`);
    assert.ok(p.l2 > 0);
  });
});
