/**
 * The "-ing" neuron probes (paper spec §5.3b; paper §5.3, Figs. 9/12a and App. I Fig. 21): do the neurons
 * whose output weights write "-ing" tokens also tell, before the word comes, whether it will be an "-ing"
 * form?
 *
 * 1. Selection from the weights (ing-selection.ts, as the authors' find_neurons.ipynb): the top 36 neurons
 *    by |mean over "-ing" tokens − mean over the others| of W_U · w_out, with Fig. 21's histograms; the
 *    first 32 are the probe neurons.
 * 2. The balanced dataset from the run's corpus (ing-dataset.ts): BOS + 24 tokens before a verb, "-ing"
 *    form or another form of the same verbs.
 * 3. Features: each probe neuron's activation (mlp.hook_post, after the nonlinearity; gated MLPs:
 *    act(gate)·up) at the last context position, the one that predicts the verb.
 * 4. Probes (math/neuron-probes.ts) on a stratified held-out split (seeded); baseline: the model's own
 *    top-1 on the same held-out examples (correct when its argmax next token is an "-ing" token exactly
 *    when the word is an "-ing" form).
 *
 * The authors' probe notebook (probe_neurons.ipynb) is not released, so steps 2–4 are layerlab's under
 * both protocols; step 1 follows the released notebook under both.
 */
import { forward } from '../model/forward.js';
import type { ModelLike } from '../model/executor.js';
import { unembed } from '../model/readout.js';
import type { TextTokenizer } from '../load/tokenizer.js';
import { buildIngDataset, type IngDatasetOptions, type IngExample } from './ing-dataset.js';
import { ingHistograms, ingVocabulary, isIngToken, selectIngNeurons, type IngVocabulary } from './ing-selection.js';
import { stratifiedSplit } from './math/logistic.js';
import { neuronProbes } from './math/neuron-probes.js';
import { DEFAULT_PROBE_GRID } from './probes.js';
import { processedUnembed, type WeightMode } from './weight-processing.js';
import type { WholeAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';

export interface IngProbeOptions extends IngDatasetOptions {
  /** Probe neurons (default 32) and neurons listed with histograms (default 36). */
  neurons?: number;
  histogramNeurons?: number;
  /** Histogram bins (default 100, Fig. 21's). */
  bins?: number;
  /** Held-out share of each class (default 0.2) and the split's seed (default 0). */
  testFraction?: number;
  splitSeed?: number;
  /** Fewest examples per class for the probes to run (default 20). */
  minPerClass?: number;
  grid?: number[];
  /** Most tokens per forward batch (default 4096). */
  maxBatchTokens?: number;
}

/** Activations of (layer, neuron) pairs at each example's last position, [n, K], and the model's top-1 there. */
export function lastPositionActivations(model: ModelLike, examples: IngExample[], neurons: Array<{ layer: number; neuron: number }>, maxBatchTokens = 4096): { X: Float32Array; top1: Int32Array } {
  const n = examples.length, K = neurons.length, F = model.config.dMlp, D = model.config.dModel, V = model.config.vocabSize;
  const T = examples[0]?.ids.length ?? 0;
  const X = new Float32Array(n * K);
  const top1 = new Int32Array(n);
  const rowsPerBatch = Math.max(1, Math.floor(maxBatchTokens / Math.max(1, T)));
  for (let r0 = 0; r0 < n; r0 += rowsPerBatch) {
    const B = Math.min(rowsPerBatch, n - r0);
    const ids = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      if (examples[r0 + b]!.ids.length !== T) throw new Error('lastPositionActivations: examples must have equal lengths');
      ids.set(examples[r0 + b]!.ids, b * T);
    }
    const last = new Float32Array(B * D);
    forward(model, { ids, batch: B, seq: T }, {
      skipLogits: true,
      hooks: [
        {
          name: 'blocks.*.mlp.hook_post',
          fn: (t, ctx) => {
            neurons.forEach((nr, k) => {
              if (nr.layer !== ctx.layer) return;
              for (let b = 0; b < B; b++) X[(r0 + b) * K + k] = t.data[(b * T + T - 1) * F + nr.neuron]!;
            });
          },
        },
        { name: 'ln_final.hook_normalized', fn: (t) => { for (let b = 0; b < B; b++) last.set(t.data.subarray((b * T + T - 1) * D, (b * T + T) * D), b * D); } },
      ],
    });
    const logits = unembed(model, last, B);
    for (let b = 0; b < B; b++) {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[b * V + v]! > logits[b * V + best]!) best = v;
      top1[r0 + b] = best;
    }
  }
  return { X, top1 };
}

export interface IngProbeOutput {
  choices: Record<string, unknown>;
  body: Record<string, unknown>;
}

/** Steps 1–4 (see the module comment); `log` reports progress. */
export function runIngProbe(model: ModelLike, tok: TextTokenizer, bos: number, docs: string[], opts: IngProbeOptions = {}, mode: WeightMode = 'tl', log: (m: string) => void = () => {}): IngProbeOutput {
  const K = opts.neurons ?? 32;
  const top = Math.max(K, opts.histogramNeurons ?? 36);
  const bins = opts.bins ?? 100;
  const testFraction = opts.testFraction ?? 0.2;
  const splitSeed = opts.splitSeed ?? 0;
  const minPerClass = opts.minPerClass ?? 20;
  const grid = opts.grid ?? DEFAULT_PROBE_GRID;
  const tokens = Math.min(tok.vocabSize, model.config.vocabSize);
  const vocab: IngVocabulary = ingVocabulary((id) => tok.tokenString(id), tokens);
  const protocolNote = 'the same under --protocol paper and layerlab: selection as the released find_neurons.ipynb; dataset, probes and split are layerlab\'s (probe_neurons.ipynb is unreleased)';
  if (vocab.ing === 0 || vocab.ing === tokens)
    return {
      choices: { protocol: protocolNote },
      body: { status: 'skipped', reason: `the tokenizer has ${vocab.ing} "-ing" tokens of ${tokens}: nothing to select on`, vocabulary: { tokens, ing_tokens: vocab.ing, examples: [] } },
    };
  log(`ing-probe: ${vocab.ing} "-ing" tokens of ${tokens}; scoring ${model.config.nLayers} x ${model.config.dMlp} neurons`);
  const U = processedUnembed(model, mode).W_U;
  const sel = selectIngNeurons(model, vocab, { mode, top, minCandidates: K }, U);
  const histograms = ingHistograms(model, vocab, sel.neurons, bins, mode, U);
  const ingExamples: string[] = [];
  for (let v = 0; v < tokens && ingExamples.length < 12; v++) if (vocab.isIng[v]) ingExamples.push(tok.tokenString(v));
  const probeNeurons = sel.neurons.slice(0, K);

  log('ing-probe: building the balanced "-ing" dataset from the corpus');
  const data = buildIngDataset(docs, tok, bos, opts);
  const choices = {
    protocol: protocolNote,
    ...sel.choices,
    histograms: `top ${top} neurons, ${bins} equal bins over [min, max] of each neuron's W_U . w_out, "-ing" vs other tokens`,
    dataset: data.choices,
    feature: 'mlp.hook_post (after the nonlinearity) of each probe neuron at the last context position (the one that predicts the word)',
    probes: `L2 logistic regression on standardized activations, l2 from ${JSON.stringify(grid)} by a stratified 20% validation split of the training part; single: one neuron each; ensemble: the first k neurons ordered by single-probe training accuracy, k = 1..${probeNeurons.length}`,
    split: `stratified, ${Math.round(testFraction * 100)}% of each class held out (seeded shuffle, seed ${splitSeed}); accuracies reported on the held-out part`,
    baseline: 'the model\'s top-1 on the held-out examples: correct when its argmax next token is an "-ing" token (token rule) exactly when the word is an -ing form',
  };
  const body: Record<string, unknown> = {
    status: 'done',
    vocabulary: { tokens, ing_tokens: vocab.ing, examples: ingExamples },
    selection: { total_neurons: sel.totalNeurons, candidates: sel.candidates, ranked_over: sel.rankedOver, neurons: sel.neurons },
    histograms,
  };
  const found = { ...data.found, per_class: data.perClass };
  if (data.perClass < minPerClass || probeNeurons.length === 0) {
    body.probes = { status: 'skipped', reason: `${data.perClass} examples per class (at least ${minPerClass} needed) from ${data.found.ing_occurrences} "-ing" and ${data.found.other_occurrences} other verb occurrences`, dataset: found };
    return { choices, body };
  }
  log(`ing-probe: ${data.perClass} examples per class; activations of ${probeNeurons.length} neurons`);
  const { X, top1 } = lastPositionActivations(model, data.examples, probeNeurons, opts.maxBatchTokens);
  const y = Uint8Array.from(data.examples, (e) => e.label);
  const { train, valid: test } = stratifiedSplit(y, testFraction, splitSeed);
  const r = neuronProbes(X, data.examples.length, probeNeurons.length, y, { train, test }, grid, splitSeed);
  const modelSaysIng = Array.from(top1, (id) => (id < tokens && isIngToken(tok.tokenString(id)) ? 1 : 0));
  const correct = (rows: number[]) => rows.filter((i) => modelSaysIng[i] === y[i]).length / rows.length;
  const sample = (label: 0 | 1) =>
    data.examples.filter((e) => e.label === label).slice(0, 6).map((e) => ({ label, word: e.word, context: tok.decode(e.ids.slice(1)) }));
  body.probes = {
    status: 'done',
    dataset: { ...found, train: train.length, test: test.length, context_tokens: data.examples[0]!.ids.length - 1, samples: [...sample(1), ...sample(0)] },
    single: probeNeurons.map((nr, i) => ({ rank: nr.rank, layer: nr.layer, neuron: nr.neuron, kind: nr.kind, ...r.single[i]! })),
    ensemble: r.ensemble.map((e, i) => ({ ...e, added_rank: probeNeurons[r.order[i]!]!.rank })),
    baseline: { model_top1_accuracy: correct(test), model_top1_accuracy_all: correct(data.examples.map((_, i) => i)), chance: 0.5 },
  };
  return { choices, body };
}

/** The "-ing" neuron probes: selection from the weights, probes on the corpus's own examples. One job. */
export const ingProbeAnalysis: WholeAnalysis = {
  kind: 'whole', name: 'ing-probe', ...resultFileOf('ing-probe'), figure: 'ing-probe', phase: 2,
  run: (ctx) => {
    const docs = ctx.opts.maxDocs !== undefined ? ctx.corpus.docs.slice(0, ctx.opts.maxDocs) : ctx.corpus.docs;
    return runIngProbe(ctx.model, ctx.tokenizer, ctx.bos, docs, ctx.opts.ingProbe, ctx.opts.neuronMode ?? 'tl', ctx.log);
  },
};
