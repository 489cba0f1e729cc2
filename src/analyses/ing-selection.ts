/**
 * Selection of the "-ing" neurons (paper spec §5.3b; the authors' find_neurons.ipynb), from weights only.
 *
 * - Token rule (the notebook's feature `end_w_ing`): a vocabulary entry is an "-ing" token when its
 *   decoded string, stripped of surrounding whitespace and lower-cased, ends with "ing". No minimum
 *   length: the bare suffix piece "ing" (as in "walk" + "ing") counts, as in the notebook. Strings come
 *   from the tokenizer's `tokenString` (GPT-2's Ġ and SentencePiece's ▁ decode to spaces; a raw piece
 *   name that still carries them is read the same way). Only ids the tokenizer has count; padding rows of
 *   W_U (e.g. Pythia's 50304 − 50277) are in neither class.
 * - Candidates (as the notebook): neurons whose vocabulary cosines have kurtosis > 10 **or** variance >
 *   0.005 (population moments over the whole W_U, neurons.ts). When fewer than `minCandidates` pass (small
 *   models), every neuron is ranked instead, and the result says so.
 * - Score: the raw composition c = W_U · w_out (TransformerLens-processed weights: fold_ln of the final
 *   norm into W_U, centred writing weights for LayerNorm models, centred unembedding), mean over "-ing"
 *   tokens minus mean over the others; neurons ranked by its absolute value (the notebook sorts by
 *   `np.abs(true - false)`, which puts suppression neurons, "-ing" strongly negative, first). The mean of a
 *   linear function is the function of the mean, so the score is w_out · Δ with
 *   Δ = mean_{ing} U_v − mean_{other} U_v: one product per neuron instead of a vocabulary scan.
 * - Histograms (Fig. 21): for the top neurons, c over "-ing" tokens and over the others in `bins` equal
 *   bins spanning [min c, max c] of that neuron (the notebook's `range=bin_range`, 100 bins).
 */
import type { ModelLike } from '../model/executor.js';
import { classifyNeuron, NEURON_KURTOSIS_THRESHOLD } from './math/moments.js';
import { neuronMoments } from './neurons.js';
import { processedMlpOut, processedUnembed, WEIGHT_PROCESSING_CHOICES, type WeightMode } from './weight-processing.js';

/** The notebook's variance threshold of its candidate rule (cosine moments). */
export const ING_VARIANCE_THRESHOLD = 0.005;

/** `decode(id).strip().lower().endswith('ing')`, markers Ġ / ▁ read as spaces. */
export function isIngToken(s: string): boolean {
  return s.replace(/[\u0120\u2581]/g, ' ').trim().toLowerCase().endsWith('ing');
}

export interface IngVocabulary {
  /** 1 for an "-ing" token, 0 otherwise, for ids 0..tokens-1. */
  isIng: Uint8Array;
  tokens: number;
  ing: number;
}

/** The token rule over ids 0..tokens-1 (the tokenizer's ids that the model also has). */
export function ingVocabulary(tokenString: (id: number) => string, tokens: number): IngVocabulary {
  const isIng = new Uint8Array(tokens);
  let ing = 0;
  for (let v = 0; v < tokens; v++) if (isIngToken(tokenString(v))) (isIng[v] = 1), ing++;
  return { isIng, tokens, ing };
}

/** Mean of the "-ing" rows minus mean of the other rows of U [V, D] over ids < isIng.length (float64). */
export function ingDirection(U: Float32Array, D: number, isIng: Uint8Array): { delta: Float64Array; meanIng: Float64Array; meanOther: Float64Array } {
  const meanIng = new Float64Array(D), meanOther = new Float64Array(D);
  let nIng = 0, nOther = 0;
  for (let v = 0; v < isIng.length; v++) {
    const m = isIng[v] ? meanIng : meanOther;
    if (isIng[v]) nIng++;
    else nOther++;
    for (let d = 0; d < D; d++) m[d] += U[v * D + d];
  }
  if (nIng === 0 || nOther === 0) throw new Error(`ingDirection: need both classes of tokens (${nIng} "-ing", ${nOther} other)`);
  const delta = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    meanIng[d] /= nIng;
    meanOther[d] /= nOther;
    delta[d] = meanIng[d] - meanOther[d];
  }
  return { delta, meanIng, meanOther };
}

export interface IngNeuron {
  rank: number;
  layer: number;
  neuron: number;
  /** |mean_ing − mean_other| of W_U · w_out. */
  score: number;
  /** mean_ing − mean_other (negative: the neuron lowers "-ing" tokens). */
  diff: number;
  mean_ing: number;
  mean_other: number;
  kurtosis: number | null;
  skew: number | null;
  variance: number;
  kind: 'prediction' | 'suppression' | 'none';
}

export interface IngSelectionOptions {
  mode?: WeightMode;
  /** Neurons listed (and drawn in Fig. 21); default 36. */
  top?: number;
  /** Fewer candidates than this: rank every neuron (default 32, the probe's neuron count). */
  minCandidates?: number;
  kurtosisThreshold?: number;
  varianceThreshold?: number;
}

export interface IngSelection {
  neurons: IngNeuron[];
  totalNeurons: number;
  candidates: number;
  rankedOver: 'candidates' | 'all';
  choices: Record<string, unknown>;
}

const dot = (w: Float32Array, o: number, x: Float64Array): number => {
  let s = 0;
  for (let d = 0; d < x.length; d++) s += w[o + d] * x[d];
  return s;
};

/** Ranks every MLP neuron of the model by its "-ing" score (see the module comment). */
export function selectIngNeurons(model: ModelLike, vocab: IngVocabulary, opts: IngSelectionOptions = {}, U?: Float32Array): IngSelection {
  const c = model.config, D = c.dModel, F = c.dMlp, L = c.nLayers;
  const mode = opts.mode ?? 'tl';
  const top = opts.top ?? 36;
  const minCandidates = opts.minCandidates ?? 32;
  const kT = opts.kurtosisThreshold ?? NEURON_KURTOSIS_THRESHOLD;
  const vT = opts.varianceThreshold ?? ING_VARIANCE_THRESHOLD;
  const { delta, meanIng, meanOther } = ingDirection(U ?? processedUnembed(model, mode).W_U, D, vocab.isIng);
  const moments = neuronMoments(model, mode);
  const all: Array<Omit<IngNeuron, 'rank'> & { candidate: boolean }> = [];
  for (let l = 0; l < L; l++) {
    const W = processedMlpOut(model, l, mode);
    const m = moments[l];
    for (let n = 0; n < F; n++) {
      const mi = dot(W, n * D, meanIng), mo = dot(W, n * D, meanOther), diff = dot(W, n * D, delta);
      const kurt = m.kurtosis[n], skew = m.skew[n], variance = m.variance[n];
      all.push({
        layer: l, neuron: n, score: Math.abs(diff), diff, mean_ing: mi, mean_other: mo,
        kurtosis: Number.isFinite(kurt) ? kurt : null, skew: Number.isFinite(skew) ? skew : null, variance,
        kind: classifyNeuron(kurt, skew, kT),
        candidate: kurt > kT || variance > vT,
      });
    }
  }
  const candidates = all.filter((x) => x.candidate).length;
  const rankedOver = candidates >= minCandidates ? 'candidates' : 'all';
  const pool = rankedOver === 'candidates' ? all.filter((x) => x.candidate) : all;
  // Stable order: score, then (layer, neuron), so ties never depend on the sort implementation.
  pool.sort((a, b) => b.score - a.score || a.layer - b.layer || a.neuron - b.neuron);
  const neurons = pool.slice(0, top).map(({ candidate: _c, ...x }, i) => ({ rank: i + 1, ...x }));
  return {
    neurons,
    totalNeurons: L * F,
    candidates,
    rankedOver,
    choices: {
      token_rule: 'decoded token string, stripped of whitespace (Ġ/▁ read as spaces) and lower-cased, ends with "ing"; no minimum length (the bare "ing" piece counts); ids the tokenizer has (W_U padding rows in neither class)',
      weights: WEIGHT_PROCESSING_CHOICES[mode],
      candidates: `vocabulary cosine kurtosis > ${kT} or variance > ${vT} (population moments over the whole W_U); ranked over every neuron when fewer than ${minCandidates} pass`,
      score: '|mean over "-ing" tokens - mean over other tokens| of W_U . w_out (raw composition, not cosine); sign kept in diff',
      kind: `kurtosis > ${kT} with skew > 0 prediction, skew < 0 suppression (neurons.json's rule)`,
    },
  };
}

export interface IngHistogram {
  layer: number;
  neuron: number;
  lo: number;
  hi: number;
  ing: number[];
  other: number[];
}

/**
 * Fig. 21's histograms of W_U · w_out over "-ing" and other tokens for the given neurons. `U` is the
 * processed unembedding when the caller has it already.
 */
export function ingHistograms(model: ModelLike, vocab: IngVocabulary, neurons: Array<{ layer: number; neuron: number }>, bins = 100, mode: WeightMode = 'tl', U = processedUnembed(model, mode).W_U): IngHistogram[] {
  const D = model.config.dModel, V = vocab.tokens;
  const rows = new Map<number, Float32Array>();
  const comp = new Float64Array(V);
  return neurons.map(({ layer, neuron }) => {
    let W = rows.get(layer);
    if (!W) rows.set(layer, (W = processedMlpOut(model, layer, mode)));
    let lo = Infinity, hi = -Infinity;
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += U[v * D + d] * W[neuron * D + d];
      comp[v] = s;
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
    }
    const ing = new Array<number>(bins).fill(0), other = new Array<number>(bins).fill(0);
    const width = (hi - lo) / bins;
    for (let v = 0; v < V; v++) {
      // numpy's histogram: half-open bins, the last one closed.
      const b = width > 0 ? Math.min(bins - 1, Math.floor((comp[v] - lo) / width)) : 0;
      (vocab.isIng[v] ? ing : other)[b]++;
    }
    return { layer, neuron, lo, hi, ing, other };
  });
}
