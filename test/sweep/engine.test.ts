import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import type { ModelConfig } from '../../src/model/config.js';
import { loadModelDir } from '../../src/model/model.js';
import { randomModel, SeededRandom } from '../../src/model/random.js';
import { runSweep, sweepBatches, type SweepData, type SweepState } from '../../src/sweep/engine.js';
import { generateInterventions, parseInterventionSpecs } from '../../src/sweep/interventions.js';
import { needsShared, sharedPath } from '../helpers/shared.js';

const dir = sharedPath('models', 'stories260k');
const opts = needsShared('models', 'stories260k');

/** expected.json's evaluation windows: [BOS] + 256 tokens of eval_ids, 8 windows (one document each). */
function storiesSetup() {
  const expected = JSON.parse(readFileSync(join(dir!, 'expected.json'), 'utf8'));
  const evalIds = SafetensorsFile.open(join(dir!, 'expected.safetensors')).readInts('eval_ids');
  const W = Number(expected.eval.window);
  const windows: Int32Array[] = [];
  for (let s = 0; s < evalIds.length; s += W) windows.push(Int32Array.from([1, ...evalIds.slice(s, s + W)]));
  return { expected, model: loadModelDir(dir!), data: { windows, docIndex: windows.map((_, i) => i) } as SweepData };
}

const json = (accs: { toJSON(): unknown }[]) => JSON.stringify(accs.map((a) => a.toJSON()));

test('sweep engine on stories260k: every plan\'s loss matches expected.json (eval.mean_nll_nats); identity KL 0, agreement 1', opts, () => {
  const { expected, model, data } = storiesSetup();
  const names = Object.keys(expected.eval.mean_nll_nats);
  const plans = names.map((n) => expected.plans[n] as number[]);
  const out = runSweep(model, plans, data, { maxBatchTokens: 1100 });
  assert.equal(out.tokens, 2048);
  assert.equal(out.batches, 2);
  names.forEach((n, i) => {
    const loss = out.plans[i].loss.summary();
    assert.equal(loss.count, 2048);
    assert.ok(Math.abs(loss.mean - expected.eval.mean_nll_nats[n]) < 1e-4, `${n}: ${loss.mean} vs ${expected.eval.mean_nll_nats[n]}`);
    assert.ok(out.plans[i].kl.summary().mean >= 0, n);
  });
  assert.ok(Math.abs(out.baseline.loss.summary().mean - expected.eval.mean_nll_nats.baseline) < 1e-4);
  const id = names.indexOf('baseline');
  assert.equal(out.plans[id].kl.summary().mean, 0);
  assert.equal(out.plans[id].kl.summary().std, 0);
  assert.equal(out.plans[id].agreement.summary().mean, 1);
  assert.deepEqual(out.plans[id].loss.toJSON(), out.baseline.loss.toJSON());
  assert.deepEqual(out.plans[id].entropy.toJSON(), out.baseline.entropy.toJSON());
  // Interventions move predictions: every non-identity plan has KL > 0 and agreement < 1.
  names.forEach((n, i) => n !== 'baseline' && assert.ok(out.plans[i].kl.summary().mean > 0 && out.plans[i].agreement.summary().mean < 1, n));
});

test('sweep engine on stories260k: prefix sharing gives exactly the numbers of recomputing every plan, at any cache size', opts, () => {
  const { model, data } = storiesSetup();
  const plans = [...generateInterventions(parseInterventionSpecs('delete,swap,repeat:1,repeat:2,plan:4,3,2,1,0,plan:,plan:0,1,2,3,4'), 5).map((i) => i.plan)];
  const small = { windows: data.windows.slice(0, 4).map((w) => w.slice(0, 129)), docIndex: [0, 0, 1, 2] };
  const recompute = runSweep(model, plans, small, { maxBatchTokens: 300, strategy: 'recompute' });
  const resid = 2 * 129 * model.config.dModel * 4;
  for (const bytes of [0, resid, 3 * resid, undefined]) {
    const trie = runSweep(model, plans, small, { maxBatchTokens: 300, prefixCacheBytes: bytes });
    assert.equal(json(trie.plans), json(recompute.plans), `cache ${bytes}`);
    assert.equal(JSON.stringify(trie.baseline.toJSON()), JSON.stringify(recompute.baseline.toJSON()));
    if (bytes === undefined) assert.ok(trie.stats.blocks < 0.6 * recompute.stats.blocks, `${trie.stats.blocks} vs ${recompute.stats.blocks}`);
  }
  // The paper's method (one window at a time, baseline rerun per plan): same numbers up to float rounding.
  const paper = runSweep(model, plans, small, { maxBatchTokens: 300, strategy: 'paper' });
  paper.plans.forEach((p, i) => {
    for (const m of ['kl', 'agreement', 'loss', 'entropy', 'accuracy'] as const)
      assert.ok(Math.abs(p[m].summary().mean - recompute.plans[i][m].summary().mean) < 1e-5, `${m} of plan ${plans[i]}`);
  });
});

test('sweep engine: resuming from a saved state ends with exactly the uninterrupted results', opts, () => {
  const { model, data } = storiesSetup();
  const plans = generateInterventions(parseInterventionSpecs('delete,swap'), 5).map((i) => i.plan);
  const states: SweepState[] = [];
  const full = runSweep(model, plans, data, { maxBatchTokens: 600, onBatch: (s) => states.push(JSON.parse(JSON.stringify(s))) });
  assert.equal(states.length, 4);
  for (const k of [1, 3]) {
    const resumed = runSweep(model, plans, data, { maxBatchTokens: 600, state: states[k - 1] });
    assert.equal(resumed.stats.batchesRun, 4 - k);
    assert.equal(json(resumed.plans), json(full.plans));
    assert.equal(JSON.stringify(resumed.baseline.toJSON()), JSON.stringify(full.baseline.toJSON()));
  }
  assert.throws(() => runSweep(model, plans.slice(1), data, { maxBatchTokens: 600, state: states[0] }), /does not match/);
});

const tinyGpt2: ModelConfig = {
  family: 'gpt2', modelType: 'gpt2', nLayers: 6, dModel: 16, nHeads: 2, nKvHeads: 2, dHead: 8, dMlp: 32, vocabSize: 40,
  nCtx: 32, norm: 'layernorm', normEps: 1e-5, positional: 'learned', block: 'sequential', gatedMlp: false, act: 'gelu_new',
  attnBias: true, attnOutBias: true, mlpBias: true, unembedBias: false, tiedEmbeddings: true, bosTokenId: 0,
};

test('sweep engine (random GPT-2-shaped model): trie = recompute with windows of several lengths, deep repeats and tight caches', () => {
  const model = randomModel(tinyGpt2, 3);
  const rng = new SeededRandom(9);
  const lengths = [9, 9, 9, 5, 5, 2, 17, 9];
  const windows = lengths.map((n) => Int32Array.from({ length: n }, (_, i) => (i === 0 ? 0 : 1 + Math.floor(rng.uniform() * 39))));
  const data = { windows, docIndex: [0, 0, 1, 2, 3, 3, 4, 5] };
  const plans = generateInterventions(parseInterventionSpecs('delete,swap,repeat:1,repeat:3,plan:5,4,3,2,1,0,plan:0,1,2,3,4,5,5,5'), 6).map((i) => i.plan);
  const recompute = runSweep(model, plans, data, { maxBatchTokens: 20, strategy: 'recompute' });
  for (const bytes of [0, 1, 16 * 18 * 4, 4 * 16 * 18 * 4, undefined]) {
    const trie = runSweep(model, plans, data, { maxBatchTokens: 20, prefixCacheBytes: bytes, logitsChunkBytes: 7 * 40 * 4 });
    assert.equal(json(trie.plans), json(recompute.plans), `cache ${bytes}`);
  }
  const kl = recompute.plans.map((p) => p.kl.summary());
  assert.ok(kl.every((s) => s.mean >= 0 && s.count === 57));
});

test('sweep engine: right-padded batches of windows of different lengths score exactly the real tokens', () => {
  const model = randomModel(tinyGpt2, 4);
  const rng = new SeededRandom(2);
  const windows = [12, 11, 10, 9, 12, 3].map((n) => Int32Array.from({ length: n }, (_, i) => (i === 0 ? 0 : 1 + Math.floor(rng.uniform() * 39))));
  const data = { windows, docIndex: [0, 1, 1, 2, 3, 4] };
  const batches = sweepBatches(data, 48);
  assert.deepEqual(batches.map((b) => [b.seq, b.lengths]), [[12, [12, 12, 11, 10]], [9, [9]], [3, [3]]]);
  assert.deepEqual([...batches[0].ids.subarray(3 * 12)], [...windows[2], 0, 0]);
  const plans = generateInterventions(parseInterventionSpecs('delete,swap'), 6).map((i) => i.plan);
  const padded = runSweep(model, plans, data, { maxBatchTokens: 48 });
  const alone = runSweep(model, plans, data, { maxBatchTokens: 48, strategy: 'paper' });
  assert.equal(padded.baseline.loss.summary().count, 51);
  padded.plans.forEach((p, i) => {
    for (const m of ['kl', 'agreement', 'accuracy', 'loss', 'entropy'] as const) {
      const a = p[m].summary(), b = alone.plans[i][m].summary();
      assert.equal(a.count, b.count);
      assert.ok(Math.abs(a.mean - b.mean) < 1e-6 && Math.abs(a.sem - b.sem) < 1e-6, `${m} of ${plans[i]}: ${a.mean} vs ${b.mean}`);
    }
  });
});
