/**
 * The authors' `compute_base2_entropy` (model_intervention.py) clamps every probability at 1e-9 before
 * summing −p log2 p, which adds up to 1e-9 · log2(1e9) ≈ 3.0e-8 bits for each token below the floor. Under
 * `--protocol paper` the sweep reproduces it: the exact entropy (from the native row statistics) plus this
 * correction, computed from the same logits. layerlab reports the exact entropy.
 */

/** The probability floor of the authors' entropy. */
export const PAPER_ENTROPY_FLOOR = 1e-9;

/**
 * Bits the clamp adds to the exact entropy of one row of logits (`lse` its log-sum-exp): the sum over
 * tokens with p < floor of (−floor · log2 floor) − (−p · log2 p). Only tokens below the floor need exp.
 */
export function clampCorrectionBits(logits: Float32Array, offset: number, vocab: number, lse: number, floor: number): number {
  const below = lse + Math.log(floor);
  const atFloor = -floor * Math.log2(floor);
  let add = 0;
  for (let v = 0; v < vocab; v++) {
    const z = logits[offset + v]!;
    if (z < below) {
      const lnp = z - lse;
      add += atFloor + (Math.exp(lnp) * lnp) / Math.LN2;
    }
  }
  return add;
}

/** Adds the clamp's bits to `entropyBits[i]` for rows 0..n-1 of `logits` (in place). */
export function clampEntropies(logits: Float32Array, n: number, vocab: number, lse: ArrayLike<number>, entropyBits: Float64Array, floor: number): void {
  for (let i = 0; i < n; i++) entropyBits[i] += clampCorrectionBits(logits, i * vocab, vocab, lse[i]!, floor);
}
