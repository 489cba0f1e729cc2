/**
 * TransformerLens-style weight processing (paper spec §3.5, §9.6), as the paper applies it before the
 * prediction/suppression-neuron statistics: `fold_ln=True, center_writing_weights=True, center_unembed=True`.
 *
 * - fold_ln: each norm's γ (and β) is folded into the weights that read its output:
 *   W_eff[i, o] = γ_i·W[i, o], b_eff = b + β·W; the norm keeps only its normalization (γ = 1, β = 0).
 *   For LayerNorm models the folded reading weights are also centered over the d_model input dimension
 *   (TL's center_weights; the normalized input has zero mean, so this changes nothing). RMSNorm models
 *   get the γ fold only, as TL does.
 * - center_writing_weights (LayerNorm models only, as TL): W_E, W_pos, W_O, W_out and their biases have
 *   their mean over d_model subtracted. Every residual vector then has zero mean, which LayerNorm removes anyway.
 * - center_unembed: W_U minus its mean over the vocabulary per d_model direction (and b_U minus its mean):
 *   the logits change by a per-position constant, which softmax ignores.
 * - fold_value_biases (TL default) is not applied: it does not affect W_out, W_U or the logits.
 *
 * Our storage is W_U [V, D] (logits = x W_Uᵀ), so "per d_model row" of TL's [D, V] is a column here.
 * Processed linears are returned in 'in_out' layout. The original model is never modified (tied
 * embeddings are copied before centering).
 */
import type { ModelLike } from '../model/executor.js';
import type { BlockParams, Linear, ModelParams, NormParams } from '../model/params.js';
import { linearInOut } from '../model/params.js';
import { weightsAsF32 } from '../load/dtype.js';

export type WeightMode = 'raw' | 'tl';

/** A Linear as a fresh [in, out] float32 matrix (always a copy; bf16 weights are decoded). */
function inOutCopy(l: Linear): Float32Array {
  const w = l.w;
  const m = linearInOut({ ...l, w });
  return m === w ? m.slice() : m;
}

/** A fresh float32 copy of weight values (bf16 decoded). */
function f32Copy(w: Float32Array | Uint16Array): Float32Array {
  return w instanceof Float32Array ? w.slice() : weightsAsF32(w);
}

/** Folds a norm (γ, β) into the Linear that reads it; centers over the input dim when `center`. */
export function foldNormInto(l: Linear, n: NormParams, center: boolean): Linear {
  const I = l.inDim, O = l.outDim;
  const W = inOutCopy(l);
  const b = new Float32Array(O);
  if (l.b) b.set(l.b);
  let hasBias = !!l.b;
  if (n.b) {
    hasBias = true;
    for (let i = 0; i < I; i++) {
      const beta = n.b[i];
      if (beta === 0) continue;
      for (let o = 0; o < O; o++) b[o] += beta * W[i * O + o];
    }
  }
  for (let i = 0; i < I; i++) {
    const g = n.w[i];
    for (let o = 0; o < O; o++) W[i * O + o] *= g;
  }
  if (center) {
    const mean = new Float64Array(O);
    for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) mean[o] += W[i * O + o];
    for (let o = 0; o < O; o++) mean[o] /= I;
    for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) W[i * O + o] -= mean[o];
  }
  return { w: W, layout: 'in_out', inDim: I, outDim: O, b: hasBias ? b : undefined };
}

/** Subtracts, from every row of a [rows, D] matrix, its mean over D (a copy). */
export function centerRows(m: Float32Array, rows: number, D: number): Float32Array {
  const out = m.slice();
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += out[r * D + j];
    const mu = s / D;
    for (let j = 0; j < D; j++) out[r * D + j] -= mu;
  }
  return out;
}

/** A writing Linear [in, D] centered over its output (d_model) dimension, bias too. */
export function centerWriting(l: Linear): Linear & { w: Float32Array } {
  const W = centerRows(inOutCopy(l), l.inDim, l.outDim);
  let b: Float32Array | undefined;
  if (l.b) {
    let s = 0;
    for (const v of l.b) s += v;
    b = l.b.map((v) => v - s / l.b!.length);
  }
  return { w: W, layout: 'in_out', inDim: l.inDim, outDim: l.outDim, b };
}

/**
 * The unembedding as used for neuron statistics, [V, D]:
 * raw: W_U as stored. tl: γ_final folded in (β into b_U), centered over d_model for LayerNorm models, then
 * centered over the vocabulary per d_model direction.
 */
export function processedUnembed(model: ModelLike, mode: WeightMode): { W_U: Float32Array; b_U?: Float32Array } {
  const c = model.config, p = model.params, V = c.vocabSize, D = c.dModel;
  if (mode === 'raw') return { W_U: weightsAsF32(p.W_U), b_U: p.b_U };
  const W = f32Copy(p.W_U);
  const g = p.lnFinal.w, beta = p.lnFinal.b;
  let b: Float32Array | undefined = p.b_U ? p.b_U.slice() : undefined;
  if (beta) {
    b ??= new Float32Array(V);
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += beta[d] * W[v * D + d];
      b[v] += s;
    }
  }
  for (let v = 0; v < V; v++) for (let d = 0; d < D; d++) W[v * D + d] *= g[d];
  const centered = c.norm === 'layernorm' ? centerRows(W, V, D) : W;
  // center_unembed: mean over the vocabulary for each d_model direction.
  const mean = new Float64Array(D);
  for (let v = 0; v < V; v++) for (let d = 0; d < D; d++) mean[d] += centered[v * D + d];
  for (let d = 0; d < D; d++) mean[d] /= V;
  for (let v = 0; v < V; v++) for (let d = 0; d < D; d++) centered[v * D + d] -= mean[d];
  if (b) {
    let s = 0;
    for (const x of b) s += x;
    const mu = s / V;
    for (let v = 0; v < V; v++) b[v] -= mu;
  }
  return { W_U: centered, b_U: b };
}

/** W_out of one layer as [dMlp, D] rows (one per neuron): raw, or centered over d_model (tl, LayerNorm models). */
export function processedMlpOut(model: ModelLike, layer: number, mode: WeightMode): Float32Array {
  const l = model.params.blocks[layer].mlpOut;
  if (mode === 'tl' && model.config.norm === 'layernorm') return centerWriting(l).w;
  return linearInOut(l);
}

function identityNorm(n: NormParams): NormParams {
  return { w: new Float32Array(n.w.length).fill(1), b: n.b ? new Float32Array(n.b.length) : undefined };
}

/**
 * The whole model processed as TransformerLens does (mode 'tl'); used to check that the processing
 * leaves the output distribution unchanged. Returns new params; the input is untouched.
 */
export function processModelWeights(model: ModelLike): ModelParams {
  const c = model.config, p = model.params, D = c.dModel;
  const ln = c.norm === 'layernorm';
  const blocks: BlockParams[] = p.blocks.map((bp) => {
    const mlpNorm = c.block === 'parallel_shared_norm' ? bp.ln1 : bp.ln2!;
    return {
      ln1: identityNorm(bp.ln1),
      ln2: bp.ln2 ? identityNorm(bp.ln2) : undefined,
      qkv: foldNormInto(bp.qkv, bp.ln1, ln),
      o: ln ? centerWriting(bp.o) : bp.o,
      mlpIn: foldNormInto(bp.mlpIn, mlpNorm, ln),
      mlpOut: ln ? centerWriting(bp.mlpOut) : bp.mlpOut,
    };
  });
  const un = processedUnembed(model, 'tl');
  return {
    W_E: ln ? centerRows(weightsAsF32(p.W_E), c.vocabSize, D) : f32Copy(p.W_E),
    W_pos: p.W_pos && ln ? centerRows(p.W_pos, p.W_pos.length / D, D) : p.W_pos,
    blocks,
    lnFinal: identityNorm(p.lnFinal),
    W_U: un.W_U,
    b_U: un.b_U,
  };
}

export const WEIGHT_PROCESSING_CHOICES = {
  tl: 'TransformerLens fold_ln (+ center reading weights for LayerNorm), center_writing_weights (LayerNorm models only), center_unembed; fold_value_biases not needed',
  raw: 'weights as stored: W_out rows and W_U rows without folding or centering',
} as const;
