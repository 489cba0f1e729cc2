import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelDir } from '../../src/model/model.js';
import type { ModelLike } from '../../src/model/executor.js';
import { linearInOut } from '../../src/model/params.js';
import { ingDirection, ingHistograms, ingVocabulary, isIngToken, selectIngNeurons } from '../../src/analyses/ing-selection.js';
import { processedMlpOut, processedUnembed } from '../../src/analyses/weight-processing.js';
import { openGolden } from '../helpers/golden.js';

test('the token rule is the notebook\'s end_w_ing: stripped, lower-cased, ends with "ing"; markers read as spaces', () => {
  for (const s of [' walking', 'walking', 'ing', ' ING ', 'Ġrunning', '▁Going', ' king', 'ing\n']) assert.equal(isIngToken(s), true, JSON.stringify(s));
  for (const s of [' walked', ' ings', 'in', '', ' ', 'ingot', ' in g']) assert.equal(isIngToken(s), false, JSON.stringify(s));
});

const ING_IDS = [10, 11, 12, 13, 14];
/** Token strings of the golden gpt2 vocabulary (96 ids): five "-ing" tokens, the rest not. */
const tokenString = (id: number) => (ING_IDS.includes(id) ? [' walking', ' going', 'ing', ' Sing', ' playING'][ING_IDS.indexOf(id)]! : ` w${id}`);

/** The golden gpt2 model with neuron (layer, neuron)'s output weight along the "-ing" tokens' unembedding. */
function planted(layer: number, neuron: number): ModelLike {
  const model = loadModelDir(openGolden('gpt2').dir);
  const D = model.config.dModel, F = model.config.dMlp;
  const U = processedUnembed(model, 'tl').W_U;
  const dir = new Float64Array(D);
  for (const v of ING_IDS) for (let d = 0; d < D; d++) dir[d] += U[v * D + d]!;
  // As long as the layer's median output weight: alignment, not size, must make it first.
  const rows = processedMlpOut(model, layer, 'tl');
  const norms = Array.from({ length: F }, (_, n) => Math.hypot(...rows.subarray(n * D, (n + 1) * D))).sort((a, b) => a - b);
  const scale = norms[F >> 1]! / Math.hypot(...dir);
  const l = model.params.blocks[layer]!.mlpOut;
  const W = linearInOut(l).slice(); // [F, D]
  for (let d = 0; d < D; d++) W[neuron * D + d] = dir[d]! * scale;
  const blocks = model.params.blocks.map((b, i) => (i === layer ? { ...b, mlpOut: { ...l, w: W, layout: 'in_out' as const, inDim: F, outDim: D } } : b));
  return { ...model, params: { ...model.params, blocks } };
}

test('a planted "-ing" neuron (golden gpt2, output weight along the -ing unembeddings, median norm) is selected first', () => {
  const base = loadModelDir(openGolden('gpt2').dir);
  const V = base.config.vocabSize, D = base.config.dModel;
  const vocab = ingVocabulary(tokenString, V);
  assert.equal(vocab.ing, 5);
  // Without the plant, (1, 7) is not first: the plant is what the test measures.
  const before = selectIngNeurons(base, vocab);
  assert.notDeepEqual([before.neurons[0]!.layer, before.neurons[0]!.neuron], [1, 7]);

  const model = planted(1, 7);
  const sel = selectIngNeurons(model, vocab);
  const first = sel.neurons[0]!;
  assert.deepEqual([first.layer, first.neuron, first.rank], [1, 7, 1]);
  assert.ok(first.diff > 0, 'it raises the -ing tokens');
  assert.ok(first.score > 1.5 * sel.neurons[1]!.score, `${first.score} vs runner-up ${sel.neurons[1]!.score}`);
  // Independent of the Δ shortcut: the mean of W_U · w_out over each class, token by token.
  const U = processedUnembed(model, 'tl').W_U, w = processedMlpOut(model, 1, 'tl').subarray(7 * D, 8 * D);
  let ing = 0, other = 0;
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += U[v * D + d]! * w[d]!;
    if (ING_IDS.includes(v)) ing += s / 5;
    else other += s / (V - 5);
  }
  assert.ok(Math.abs(first.mean_ing - ing) < 1e-5 && Math.abs(first.mean_other - other) < 1e-5);
  assert.ok(Math.abs(first.score - Math.abs(ing - other)) < 1e-5);
  // Ranked by |diff|, best first.
  for (let i = 1; i < sel.neurons.length; i++) assert.ok(sel.neurons[i - 1]!.score >= sel.neurons[i]!.score);
  assert.equal(sel.neurons.length, 36);

  // Fig. 21's histogram of the planted neuron: every token counted once, the -ing tokens in the top bins.
  const [h] = ingHistograms(model, vocab, [first], 10);
  assert.equal(h!.ing.reduce((a, b) => a + b, 0), 5);
  assert.equal(h!.other.reduce((a, b) => a + b, 0), V - 5);
  const meanBin = (c: number[]) => c.reduce((s, x, b) => s + x * b, 0) / c.reduce((a, b) => a + b, 0);
  assert.ok(meanBin(h!.ing) > meanBin(h!.other) + 3, `${h!.ing} / ${h!.other}`);
  assert.ok(h!.other[0]! + h!.ing[0]! > 0 && h!.other[9]! + h!.ing[9]! > 0, 'the bins span [min, max]');
});

test('ingDirection: mean of the -ing rows minus the mean of the others', () => {
  const U = Float32Array.from([1, 0, 3, 0, 0, 2, 0, 4]); // 4 tokens x 2
  const { delta } = ingDirection(U, 2, Uint8Array.from([1, 1, 0, 0]));
  assert.deepEqual(Array.from(delta), [2 - 0, 0 - 3]);
  assert.throws(() => ingDirection(U, 2, new Uint8Array(4)), /both classes/);
});

test('fewer candidates than probe neurons: every neuron is ranked, and the result says so', () => {
  const model = planted(0, 3);
  const vocab = ingVocabulary(tokenString, model.config.vocabSize);
  const sel = selectIngNeurons(model, vocab, { kurtosisThreshold: 1e9, varianceThreshold: 1e9 });
  assert.equal(sel.candidates, 0);
  assert.equal(sel.rankedOver, 'all');
  assert.deepEqual([sel.neurons[0]!.layer, sel.neurons[0]!.neuron], [0, 3]);
});
