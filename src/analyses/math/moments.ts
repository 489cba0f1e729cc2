/**
 * Vocabulary moments of one MLP neuron (paper spec §5.3a, after Gurnee et al. 2024): given the cosines
 * c_v between the neuron's output weight and every unembedding direction, the shape of that distribution
 * says what the neuron does. A heavy tail (high kurtosis) to the right raises a few tokens (prediction
 * neuron); a heavy tail to the left lowers a few (suppression neuron).
 */

export interface VocabMoments {
  /** μ = mean(c). */
  mean: number;
  /** Population variance σ² = mean((c − μ)²), divisor n as in the paper's code. */
  variance: number;
  /** mean(z³) with z = (c − μ)/σ (population, not bias-corrected). NaN when σ = 0. */
  skew: number;
  /** mean(z⁴), **non-excess**: a Gaussian gives 3. NaN when σ = 0. */
  kurtosis: number;
}

export type NeuronClass = 'prediction' | 'suppression' | 'none';

/** The paper's kurtosis threshold (non-excess). */
export const NEURON_KURTOSIS_THRESHOLD = 10;

/**
 * Population moments of `values`, accumulated in float64 in two passes: the mean first, then the
 * centered powers. (A one-pass power-sum formula cancels catastrophically when |μ| ≫ σ.)
 */
export function vocabMoments(values: Float32Array | Float64Array): VocabMoments {
  const n = values.length;
  if (n === 0) throw new Error('vocabMoments: empty input');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  if (!Number.isFinite(mean) || !Number.isFinite(m4)) throw new Error('vocabMoments: input contains non-finite values');
  // A constant vector has no shape: z is undefined, and NaN makes classifyNeuron answer 'none'.
  if (m2 === 0) return { mean, variance: 0, skew: NaN, kurtosis: NaN };
  return { mean, variance: m2, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

/**
 * The paper's rule: kurtosis (non-excess) above `threshold` and positive skew → prediction neuron;
 * above it with negative skew → suppression neuron; anything else (including skew exactly 0 and NaN
 * moments) → none.
 */
export function classifyNeuron(kurt: number, skew: number, threshold = NEURON_KURTOSIS_THRESHOLD): NeuronClass {
  if (!(kurt > threshold)) return 'none';
  if (skew > 0) return 'prediction';
  if (skew < 0) return 'suppression';
  return 'none';
}
