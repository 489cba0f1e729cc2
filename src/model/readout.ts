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

/**
 * Default memory for one chunk of logits (rows x vocab floats): bounded, and big enough that OpenBLAS, which
 * packs all of W_U on every call, spends little on it (GPT-2-small, f32, 2 threads: 320-row chunks ~195
 * GFLOP/s, 640-row ~206; one huge GEMM is no faster and holds every row's logits).
 */
export const LOGIT_CHUNK_BYTES = 128 * 2 ** 20;

/**
 * Rows of logits computed at once for a vocabulary (at least one). From 64 rows up, a multiple of 64: bf16
 * products run in 32-row blocks shared among the threads, and 333 rows (GPT-2, 64 MiB) made 11 blocks, the
 * last one overlapping (recomputed rows) and one thread idle for a block: ~10% of a bf16 sweep's
 * unembedding. Rows never depend on how they were chunked (src/backend/row-blocks.ts), so this moves no value.
 */
export function logitChunkRows(vocab: number, chunkBytes = LOGIT_CHUNK_BYTES): number {
  const rows = Math.max(1, Math.floor(chunkBytes / (vocab * 4)));
  return rows >= 64 ? rows - (rows % 64) : rows;
}
