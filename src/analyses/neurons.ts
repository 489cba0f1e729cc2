/**
 * Prediction and suppression neurons (paper spec §5.3a, stages 3–4; Gurnee et al. 2024), from weights only.
 *
 * For every MLP neuron n of layer ℓ, w_n ∈ ℝ^D is its output weight (row n of W_out viewed [dMlp, D]; for
 * gated MLPs the column of down_proj). Its cosine with every unembedding direction u_v (row v of W_U
 * [V, D], the whole vocabulary including padding rows) gives c_v; the population skew and **non-excess**
 * kurtosis of c classify it: kurtosis > 10 and skew > 0 → prediction, kurtosis > 10 and skew < 0 →
 * suppression. Weights are processed first (mode 'tl', default, as the paper; see weight-processing.ts).
 *
 * Cost: per layer the cosines are normalize(W_out rows) · normalize(W_U rows)ᵀ through backend.gemm, in
 * chunks of neurons so only [chunk, V] is ever held.
 */
import type { ModelLike } from '../model/executor.js';
import type { NeuronsResult } from '../results/schema.js';
import { logitChunkRows } from '../model/readout.js';
import { relativeDepth } from './common.js';
import { classifyNeuron, NEURON_KURTOSIS_THRESHOLD, vocabMoments } from './math/moments.js';
import { processedMlpOut, processedUnembed, WEIGHT_PROCESSING_CHOICES, type WeightMode } from './weight-processing.js';
import type { WholeAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';

function normalizeRows(m: Float32Array, rows: number, D: number): Float32Array {
  const out = new Float32Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += m[r * D + j] * m[r * D + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < D; j++) out[r * D + j] = m[r * D + j] * inv;
  }
  return out;
}

export interface NeuronMoments {
  layer: number;
  skew: Float64Array;
  kurtosis: Float64Array;
  /** Population variance of the cosines (the "-ing" probe's candidate rule reads it). */
  variance: Float64Array;
}

/** Skew and kurtosis of the vocab cosines of every neuron of every layer (or the listed layers). */
export function neuronMoments(model: ModelLike, mode: WeightMode, layers?: number[], onLayer?: (done: number, total: number) => void): NeuronMoments[] {
  const c = model.config, D = c.dModel, V = c.vocabSize, F = c.dMlp;
  const U = normalizeRows(processedUnembed(model, mode).W_U, V, D);
  const list = layers ?? Array.from({ length: c.nLayers }, (_, i) => i);
  const step = Math.min(F, logitChunkRows(V));
  const cos = new Float32Array(step * V);
  return list.map((layer, idx) => {
    const W = normalizeRows(processedMlpOut(model, layer, mode), F, D);
    const skew = new Float64Array(F), kurtosis = new Float64Array(F), variance = new Float64Array(F);
    for (let n0 = 0; n0 < F; n0 += step) {
      const n = Math.min(step, F - n0);
      model.backend.gemm({ transA: false, transB: true, m: n, n: V, k: D, a: W, aOffset: n0 * D, lda: D, b: U, ldb: D, beta: 0, c: cos, ldc: V });
      for (let r = 0; r < n; r++) {
        const m = vocabMoments(cos.subarray(r * V, (r + 1) * V));
        skew[n0 + r] = m.skew;
        kurtosis[n0 + r] = m.kurtosis;
        variance[n0 + r] = m.variance;
      }
    }
    onLayer?.(idx + 1, list.length);
    return { layer, skew, kurtosis, variance };
  });
}

export interface NeuronOptions {
  mode?: WeightMode;
  threshold?: number;
  /** How many of the strongest classified neurons to list (default 50). */
  top?: number;
}

export function neuronCounts(model: ModelLike, opts: NeuronOptions = {}, onLayer?: (done: number, total: number) => void): Pick<NeuronsResult, 'mode' | 'threshold' | 'per_layer' | 'top'> & { choices: Record<string, unknown> } {
  const mode = opts.mode ?? 'tl';
  const threshold = opts.threshold ?? NEURON_KURTOSIS_THRESHOLD;
  const L = model.config.nLayers, F = model.config.dMlp;
  const moments = neuronMoments(model, mode, undefined, onLayer);
  const all: NeuronsResult['top'] = [];
  const per_layer = moments.map(({ layer, skew, kurtosis }) => {
    let prediction = 0, suppression = 0;
    for (let n = 0; n < F; n++) {
      const k = classifyNeuron(kurtosis[n], skew[n], threshold);
      if (k === 'none') continue;
      if (k === 'prediction') prediction++;
      else suppression++;
      all.push({ layer, neuron: n, kurtosis: kurtosis[n], skew: skew[n], kind: k });
    }
    return { layer, relative_depth: relativeDepth(layer, L), d_mlp: F, prediction, suppression, prediction_density: prediction / F, suppression_density: suppression / F };
  });
  all.sort((a, b) => b.kurtosis - a.kurtosis);
  return {
    mode,
    threshold,
    per_layer,
    top: all.slice(0, opts.top ?? 50),
    choices: {
      mode,
      weight_processing: WEIGHT_PROCESSING_CHOICES[mode],
      threshold,
      kurtosis: 'non-excess (Gaussian = 3), population moments over the whole W_U vocabulary (padding rows included)',
      cosine: 'cos(w_out row of the neuron, W_U row of each token); gated MLPs: the down_proj column of the neuron',
      prediction: `kurtosis > ${threshold} and skew > 0`,
      suppression: `kurtosis > ${threshold} and skew < 0`,
      density: 'count / d_mlp',
    },
  };
}

/** Prediction and suppression neurons: from the weights alone, one job. */
export const neuronsAnalysis: WholeAnalysis = {
  kind: 'whole', name: 'neurons', ...resultFileOf('neurons'), figure: 'logit-lens', phase: 0,
  run: (ctx) => {
    const c = ctx.model.config;
    ctx.log(`neurons: vocabulary moments of ${c.nLayers} x ${c.dMlp} MLP neurons (${ctx.opts.neuronMode ?? 'tl'} weights)`);
    const r = neuronCounts(ctx.model, { mode: ctx.opts.neuronMode, threshold: ctx.opts.neuronThreshold });
    return { choices: r.choices, body: { mode: r.mode, threshold: r.threshold, per_layer: r.per_layer, top: r.top } };
  },
};
