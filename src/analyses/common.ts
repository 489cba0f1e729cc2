/**
 * Small helpers shared by the stage analyses: turning accumulators into the result schema's Stat,
 * relative depth, applying the final norm to arbitrary residual rows and unembedding them.
 */
import type { ModelLike } from '../model/executor.js';
import { unembedInto } from '../model/weights.js';
import type { Stat } from '../results/schema.js';
import { GroupedStats, RunningStats } from './math/running-stats.js';
import { mulberry32 } from './math/prng.js';

const nn = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** A GroupedStats as a Stat: token-pooled mean and std, standard error across documents. */
export function statOf(g: GroupedStats): Stat {
  const s = g.summary();
  return { count: s.count, mean: nn(s.mean), std: nn(s.std), sem: nn(s.sem) };
}

/** A RunningStats as a Stat (sem = std/√n over the values themselves). */
export function statOfRunning(r: RunningStats): Stat {
  return { count: r.count, mean: nn(r.mean), std: nn(r.std), sem: nn(r.sem) };
}

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

/** logits [rows, V] = normed W_Uᵀ (+ b_U), in the model's weight dtype. */
export function unembedRows(model: ModelLike, normed: Float32Array, rows: number, out = new Float32Array(rows * model.config.vocabSize)): Float32Array {
  return unembedInto(model, normed, rows, out);
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

/** Float32Array <-> base64 for saving partial state in JSON. */
export function f32ToBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}
export function base64ToF32(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
