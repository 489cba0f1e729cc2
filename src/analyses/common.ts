/**
 * Small helpers shared by the stage analyses: relative depth, seeded shuffles. (The model's read-out of
 * arbitrary residual rows, final norm, unembedding and chunking, is src/model/readout.ts.)
 */
import { mulberry32 } from './math/prng.js';

/** layer / (L − 1), 0 for a one-layer model. */
export function relativeDepth(layer: number, nLayers: number): number {
  return nLayers > 1 ? layer / (nLayers - 1) : 0;
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
