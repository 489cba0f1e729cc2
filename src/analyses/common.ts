/**
 * Small helpers shared by the stage analyses: relative depth, applying the final norm to arbitrary residual rows and unembedding them.
 */
import type { ModelLike } from '../model/executor.js';
import { mulberry32 } from './math/prng.js';

/** layer / (L − 1), 0 for a one-layer model. */
export function relativeDepth(layer: number, nLayers: number): number {
  return nLayers > 1 ? layer / (nLayers - 1) : 0;
}

/**
 * The final norm (LayerNorm or RMSNorm, its own weight, bias and eps) applied to `rows` residual rows with
 * **each row's own statistics**: the correct logit lens (not TransformerLens 1.18's cached final scale).
 */
export function applyFinalNorm(model: ModelLike, x: Float32Array, rows: number, out = new Float32Array(rows * model.config.dModel)): Float32Array {
  const c = model.config, n = model.params.lnFinal;
  if (c.norm === 'layernorm') model.backend.layerNorm(x, out, rows, c.dModel, n.w, n.b, c.normEps);
  else model.backend.rmsNorm(x, out, rows, c.dModel, n.w, c.normEps);
  return out;
}

/** logits [rows, V] = normed W_Uᵀ (+ b_U). */
export function unembedRows(model: ModelLike, normed: Float32Array, rows: number, out = new Float32Array(rows * model.config.vocabSize)): Float32Array {
  const c = model.config, p = model.params, V = c.vocabSize;
  if (p.b_U) for (let r = 0; r < rows; r++) out.set(p.b_U, r * V);
  model.backend.gemm({ transA: false, transB: true, m: rows, n: V, k: c.dModel, a: normed, b: p.W_U, beta: p.b_U ? 1 : 0, c: out });
  return out;
}

/** Rows of at most this many logits are processed at once (bounds memory for large vocabularies). */
export const LOGIT_CHUNK_ELEMENTS = 1 << 22;

export function chunkRows(vocab: number): number {
  return Math.max(1, Math.floor(LOGIT_CHUNK_ELEMENTS / vocab));
}

/** Fisher–Yates shuffle with a seeded generator (a copy). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const r = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
