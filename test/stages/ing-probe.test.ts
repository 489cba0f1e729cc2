import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { runStages } from '../../src/runs/stages.js';
import { buildIngDataset } from '../../src/analyses/ing-dataset.js';
import { lastPositionActivations } from '../../src/analyses/ing-probe.js';
import { isIngToken } from '../../src/analyses/ing-selection.js';
import { readResult } from '../../src/results/run-files.js';
import { openGolden } from '../helpers/golden.js';
import { wordTokenizer } from '../analyses/word-tokenizer.js';
import { tempDir } from './helpers.js';
import { join } from 'node:path';

/** Sentences of filler words, each ending in a form of one of eight verbs (seeded). */
function verbCorpus(docs: number, seed = 3): string[] {
  const verbs = ['walk', 'talk', 'jump', 'play', 'call', 'help', 'look', 'work'];
  const fill = ['the', 'man', 'and', 'a', 'dog', 'then', 'we', 'saw', 'it', 'there', 'so', 'they'];
  let s = seed;
  const rand = (n: number) => ((s = (s * 1664525 + 1013904223) >>> 0), Math.floor((s / 2 ** 32) * n));
  return Array.from({ length: docs }, () =>
    Array.from({ length: 10 }, () => `${Array.from({ length: 5 }, () => fill[rand(fill.length)]).join(' ')} ${verbs[rand(8)]}${['ing', 'ed', 's'][rand(3)]}.`).join(' '),
  );
}

test('ing-probe through runStages (golden gpt2, word tokenizer): a valid result whose baseline and features match a plain forward pass', async (t) => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const V = model.config.vocabSize;
  const docs = verbCorpus(40);
  const tok = wordTokenizer(V);
  for (const d of docs) tok.encode(d); // fix the vocabulary before the analysis reads it
  assert.ok(tok.pieces.length < V, `${tok.pieces.length} pieces`);
  const out = tempDir(t);
  const opts = { maxPerClass: 60, bins: 20 };
  const { results } = await runStages(
    { model, tokenizer: tok, bos: 1, corpus: { docs, format: 'text', sha256: 'verbs', bytes: 1 }, dataFile: 'verbs', outDir: out },
    { analyses: ['ing-probe'], progress: false, ingProbe: opts },
  );
  const r = readResult(join(out, 'ing-probe.json'), 'ing-probe.json'); // written through its validator
  assert.deepEqual(r, JSON.parse(JSON.stringify(results['ing-probe'])));
  assert.equal(r.status, 'done');
  assert.equal(r.vocabulary.ing_tokens, 8);
  assert.equal(r.histograms!.length, 36);
  assert.equal(r.histograms![0]!.ing.length, 20);
  const p = r.probes!;
  assert.equal(p.status, 'done', p.reason);
  assert.equal(p.dataset.per_class, 60);
  assert.equal(p.dataset.train! + p.dataset.test!, 120);
  assert.equal(p.dataset.test, 24);
  assert.equal(p.dataset.context_tokens, 24);
  assert.equal(p.single!.length, 32);
  assert.deepEqual(p.ensemble!.map((e) => e.k), Array.from({ length: 32 }, (_, i) => i + 1));
  assert.deepEqual(new Set(p.ensemble!.map((e) => e.added_rank)), new Set(p.single!.map((s) => s.rank)), 'each probe neuron added once');
  for (const s of [...p.single!, ...p.ensemble!]) assert.ok(s.test_accuracy >= 0 && s.test_accuracy <= 1 && s.train_accuracy >= 0 && s.train_accuracy <= 1);

  // Independent baseline: the same examples (same seed), full logits from a plain forward pass.
  const data = buildIngDataset(docs, tok, 1, opts);
  const T = 25, n = data.examples.length;
  const ids = data.examples.flatMap((e) => e.ids);
  const logits = forward(model, { ids: Int32Array.from(ids), batch: n, seq: T }).logits!.data;
  let correct = 0;
  data.examples.forEach((e, b) => {
    let best = 0;
    const o = (b * T + T - 1) * V;
    for (let v = 1; v < V; v++) if (logits[o + v]! > logits[o + best]!) best = v;
    if ((isIngToken(tok.tokenString(best)) ? 1 : 0) === e.label) correct++;
  });
  assert.equal(p.baseline!.model_top1_accuracy_all, correct / n);

  // Features: mlp.hook_post at the last position, as a cached forward pass gives them.
  const picks = p.single!.slice(0, 3).map((s) => ({ layer: s.layer, neuron: s.neuron }));
  const { X } = lastPositionActivations(model, data.examples, picks, 200);
  const F = model.config.dMlp;
  const cache = forward(model, { ids: Int32Array.from(ids), batch: n, seq: T }, { skipLogits: true, cache: picks.map((q) => `blocks.${q.layer}.mlp.hook_post`) }).cache;
  picks.forEach((q, k) => {
    const post = cache.get(`blocks.${q.layer}.mlp.hook_post`)!.data;
    for (let b = 0; b < n; b++) assert.equal(X[b * picks.length + k], post[(b * T + T - 1) * F + q.neuron]);
  });
});
