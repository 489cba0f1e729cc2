/**
 * The read-out of a residual stream: the final norm and the unembedding, written once and used by
 * `Executor` (the forward pass), the logit lens (every layer's residual) and the sweep engine (every
 * plan's last residual), so all three apply the same norm, the same bias rule and the same chunking.
 */
import type { ModelLike } from './executor.js';
import type { NormParams } from './params.js';
import { unembedInto } from './weights.js';

/**
 * The final norm (LayerNorm or RMSNorm, its own weight, bias and eps) of `rows` residual rows, each with
 * **its own statistics** (the correct logit lens, not TransformerLens 1.18's cached final scale).
 */
export function finalNorm(model: ModelLike, x: Float32Array, rows: number, out: Float32Array = new Float32Array(rows * model.config.dModel)): Float32Array {
  return applyNorm(model, model.params.lnFinal, x, rows, out);
}

/** The model's norm kind (LayerNorm or RMSNorm, eps from the config) with the weights `n`, per row. */
export function applyNorm(model: ModelLike, n: NormParams, x: Float32Array, rows: number, out: Float32Array): Float32Array {
  const c = model.config;
  if (c.norm === 'layernorm') model.backend.layerNorm(x, out, rows, c.dModel, n.w, n.b, c.normEps);
  else model.backend.rmsNorm(x, out, rows, c.dModel, n.w, c.normEps);
  return out;
}

/** logits [rows, V] = normed · W_Uᵀ, then + b_U when the model has one; in the model's weight dtype. */
export function unembed(model: ModelLike, normed: Float32Array, rows: number, out: Float32Array = new Float32Array(rows * model.config.vocabSize)): Float32Array {
  return unembedInto(model, normed, rows, out);
}

/** Default memory for one chunk of logits (rows x vocab floats): one huge GEMM is slower, and bounded. */
export const LOGIT_CHUNK_BYTES = 64 * 2 ** 20;

/** Rows of logits computed at once for a vocabulary (at least one). */
export function logitChunkRows(vocab: number, chunkBytes = LOGIT_CHUNK_BYTES): number {
  return Math.max(1, Math.floor(chunkBytes / (vocab * 4)));
}
