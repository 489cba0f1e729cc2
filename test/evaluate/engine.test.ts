/**
 * The evaluation engine: plan-trie sharing gives numbers identical to running every plan separately,
 * and summed log-likelihoods equal those computed (in float64, here) from `forward` logits, on a random
 * GPT-2-shaped model and on stories260k (Llama: RoPE, GQA, gated MLP; skipped when absent).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalUnits, scoreUnit } from '../../src/evaluate/engine.js';
import type { ScoredRequest } from '../../src/evaluate/requests.js';
import type { ModelConfig } from '../../src/model/config.js';
import { forward } from '../../src/model/forward.js';
import { greedyGenerate } from '../../src/model/generate.js';
import { loadModelDir } from '../../src/model/model.js';
import type { ModelLike } from '../../src/model/executor.js';
import { randomModel, SeededRandom } from '../../src/model/random.js';
import { generateInterventions, parseInterventionSpecs } from '../../src/sweep/interventions.js';
import { needsShared, sharedPath } from '../helpers/shared.js';

const tinyGpt2: ModelConfig = {
  family: 'gpt2', modelType: 'gpt2', nLayers: 5, dModel: 16, nHeads: 2, nKvHeads: 2, dHead: 8, dMlp: 32, vocabSize: 40,
  nCtx: 32, norm: 'layernorm', normEps: 1e-5, positional: 'learned', block: 'sequential', gatedMlp: false, act: 'gelu_new',
  attnBias: true, attnOutBias: true, mlpBias: true, unembedBias: false, tiedEmbeddings: true, bosTokenId: 0,
};

/** Multiple-choice-like requests: per item one context, 2-4 continuations of 1-4 tokens. */
function requests(vocab: number, items: number, seed: number): ScoredRequest[] {
  const rng = new SeededRandom(seed);
  const tok = () => 1 + Math.floor(rng.uniform() * (vocab - 1));
  const out: ScoredRequest[] = [];
  for (let i = 0; i < items; i++) {
    const ctx = Array.from({ length: 3 + Math.floor(rng.uniform() * 9) }, tok);
    const nChoices = 2 + Math.floor(rng.uniform() * 3);
    for (let k = 0; k < nChoices; k++) {
      const cont = Array.from({ length: 1 + Math.floor(rng.uniform() * 4) }, tok);
      const input = [...ctx, ...cont].slice(0, -1);
      out.push({ item: i, choice: k, contextString: '', continuationString: '', contextTokens: ctx, continuationTokens: cont, input, scoreFrom: input.length - cont.length, truncated: 0 });
    }
  }
  return out;
}

/**
 * ll and greedy of request `b` from `forward` logits, log-softmax in float64 here. `padded`: the forward
 * runs the whole unit as one right-padded batch (the engine's shapes, so float32 rounding is the same);
 * otherwise the request alone.
 */
function fromForward(model: ModelLike, plan: readonly number[], reqs: ScoredRequest[], b: number, padded: boolean): { ll: number; greedy: number } {
  const V = model.config.vocabSize;
  const r = reqs[b];
  const T = Math.max(...reqs.map((x) => x.input.length));
  const rows = padded ? reqs.map((x) => [...x.input, ...new Array<number>(T - x.input.length).fill(x.input[0])]) : [r.input];
  const logits = forward(model, rows, { plan }).logits!.data;
  const off = padded ? b * T : 0;
  let ll = 0, greedy = 1;
  r.continuationTokens.forEach((t, k) => {
    const row = logits.subarray((off + r.scoreFrom + k) * V, (off + r.scoreFrom + k + 1) * V);
    let max = -Infinity, arg = 0;
    for (let v = 0; v < V; v++) if (row[v] > max) [max, arg] = [row[v], v];
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(row[v] - max);
    ll += row[t] - max - Math.log(s);
    if (arg !== t) greedy = 0;
  });
  return { ll, greedy };
}

function planList(L: number, spec: string): number[][] {
  const base = Array.from({ length: L }, (_, i) => i);
  return [base, ...generateInterventions(parseInterventionSpecs(spec), L).map((i) => i.plan)];
}

test('units keep every item whole, longest first, within the token budget, deterministically', () => {
  const reqs = requests(40, 30, 1);
  const units = evalUnits(reqs, 64, tinyGpt2);
  assert.deepEqual(units.flat().sort((a, b) => a - b), reqs.map((_, i) => i), 'every request exactly once');
  // Every item here packs into one row: context + each choice without its last token.
  const packedLen = (it: number) => {
    const rs = reqs.filter((r) => r.item === it);
    return rs[0].contextTokens.length + rs.reduce((n, r) => n + r.continuationTokens.length - 1, 0);
  };
  for (const u of units) {
    const items = [...new Set(u.map((i) => reqs[i].item))];
    for (const it of items) assert.equal(u.filter((i) => reqs[i].item === it).length, reqs.filter((r) => r.item === it).length, 'item whole');
    assert.ok(items.length * Math.max(...items.map(packedLen)) <= 64 || items.length === 1);
  }
  assert.deepEqual(evalUnits(reqs, 64, tinyGpt2), units);
});

test('random GPT-2 model: trie = recompute bit for bit; ll = forward logits within 1e-5 (batch as the engine, and each request alone)', () => {
  const model = randomModel(tinyGpt2, 7);
  const reqs = requests(40, 6, 2);
  const plans = planList(5, 'delete,swap,repeat:2');
  const stats = { blocks: 0, blockTokens: 0, unembedRows: 0 };
  const trie = scoreUnit(model, plans, reqs, { strategy: 'trie', stats });
  const rec = scoreUnit(model, plans, reqs, { strategy: 'recompute' });
  assert.deepEqual(trie, rec);
  // Packing: one row per item, the context computed once per item (not per choice); same numbers within float32 rounding.
  const plainStats = { blocks: 0, blockTokens: 0, unembedRows: 0 };
  const plain = scoreUnit(model, plans, reqs, { strategy: 'trie', pack: false, stats: plainStats });
  assert.deepEqual(plain, scoreUnit(model, plans, reqs, { strategy: 'recompute', pack: false }));
  assert.equal(stats.blocks, plainStats.blocks);
  assert.equal(stats.blockTokens / stats.blocks, 6 * Math.max(...[...Array(6).keys()].map((it) => {
    const rs = reqs.filter((r) => r.item === it);
    return rs[0].contextTokens.length + rs.reduce((n, r) => n + r.continuationTokens.length - 1, 0);
  })), 'a batch of 6 packed rows');
  assert.ok(stats.blockTokens < plainStats.blockTokens / 1.5, `${stats.blockTokens} vs ${plainStats.blockTokens} token rows`);
  plans.forEach((_, p) => reqs.forEach((_, i) => {
    assert.ok(Math.abs(trie.ll[p][i] - plain.ll[p][i]) < 1e-5, `packed vs unpacked, plan ${p} request ${i}`);
    assert.equal(trie.greedy[p][i], plain.greedy[p][i]);
  }));
  const tight = scoreUnit(model, plans, reqs, { strategy: 'trie', prefixCacheBytes: 0, logitsChunkBytes: 1 });
  assert.deepEqual(tight, trie, 'no prefix cache and one logits row per chunk: same numbers');
  assert.ok(stats.blocks < plans.reduce((s, p) => s + p.length, 0), `trie ran ${stats.blocks} blocks`);
  const naive = scoreUnit(model, plans, reqs, { strategy: 'naive' });
  plans.forEach((plan, p) =>
    reqs.forEach((r, i) => {
      const ref = fromForward(model, plan, reqs, i, true);
      assert.ok(Math.abs(plain.ll[p][i] - ref.ll) < 1e-5, `plan ${p} request ${i}: ${plain.ll[p][i]} vs ${ref.ll}`);
      assert.ok(Math.abs(trie.ll[p][i] - ref.ll) < 1e-5, `packed, plan ${p} request ${i}: ${trie.ll[p][i]} vs ${ref.ll}`);
      assert.ok(Math.abs(naive.ll[p][i] - fromForward(model, plan, reqs, i, false).ll) < 1e-5);
      assert.ok(Math.abs(naive.ll[p][i] - trie.ll[p][i]) < 1e-5, 'packing and right-padding change nothing beyond float32 rounding');
    }),
  );
});

test('stories260k (RoPE): trie = recompute; ll and greedy equal those from forward logits (1e-5 on the same unpacked batch; packed rows and each request alone within 1e-5 relative: float32 rounding of other shapes)', needsShared('models', 'stories260k'), () => {
  const model = loadModelDir(sharedPath('models', 'stories260k')!);
  const reqs = requests(model.config.vocabSize, 5, 3);
  // One item whose continuation is the model's own greedy output: its baseline greedy flag must be 1.
  const ctx = reqs[0].contextTokens;
  const cont = greedyGenerate(model, ctx, 3);
  const input = [...ctx, ...cont].slice(0, -1);
  reqs.push({ ...reqs[0], item: 99, choice: 0, continuationTokens: cont, input, scoreFrom: input.length - cont.length });
  const plans = planList(model.config.nLayers, 'delete,swap,repeat:2');
  const trie = scoreUnit(model, plans, reqs);
  assert.equal(trie.greedy[0][reqs.length - 1], 1, 'the greedy continuation is greedy under the baseline');
  assert.deepEqual(trie, scoreUnit(model, plans, reqs, { strategy: 'recompute' }));
  const plain = scoreUnit(model, plans, reqs, { pack: false });
  let greedyFlags = 0;
  plans.forEach((plan, p) =>
    reqs.forEach((r, i) => {
      const ref = fromForward(model, plan, reqs, i, true);
      assert.ok(Math.abs(plain.ll[p][i] - ref.ll) < 1e-5, `plan ${p} request ${i}: ${plain.ll[p][i]} vs ${ref.ll}`);
      assert.equal(plain.greedy[p][i], ref.greedy);
      assert.equal(trie.greedy[p][i], ref.greedy);
      const alone = fromForward(model, plan, reqs, i, false);
      assert.ok(Math.abs(trie.ll[p][i] - alone.ll) <= 1e-5 * Math.abs(alone.ll), `alone: ${trie.ll[p][i]} vs ${alone.ll}`);
      greedyFlags += ref.greedy;
    }),
  );
  assert.ok(greedyFlags > 0, 'some continuations are greedy (the flag is exercised)');
});
