/**
 * The statistic every result file and figure uses: a token-pooled mean with its spread and its standard
 * error. NaN (no values, or fewer than two for a spread) is null, as JSON writes it.
 */
import { z } from 'zod';
import type { RunningStats } from './running-stats.js';

const nullableNumber = z.number().nullable();

/** `n` values from `docs` independent units (documents; examples for per-example statistics). */
export const StatSchema = z.object({
  mean: nullableNumber,
  /** Sample std over the pooled values (divisor n − 1). */
  std: nullableNumber,
  /** Standard error of the mean across the independent units. */
  sem: nullableNumber,
  n: z.number().int().nonnegative(),
  docs: z.number().int().nonnegative(),
});
export type Stat = z.infer<typeof StatSchema>;

const nn = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function statFromMoments(mean: number, std: number, sem: number, n: number, docs: number): Stat {
  return { mean: nn(mean), std: nn(std), sem: nn(sem), n, docs };
}

/** A RunningStats over independent values (each value its own unit: sem = std/√n, docs = n). */
export function statOfValues(r: RunningStats): Stat {
  return statFromMoments(r.mean, r.std, r.sem, r.count, r.count);
}

/**
 * The ±1 sigma band of a statistic: [mean − s, mean + s] with s its sem or its std (an unknown spread,
 * e.g. one document, counts as 0: the band collapses onto the line), clamped to `clamp` when given (e.g.
 * [0, 1] for probabilities, [0, ∞) for a divergence). Undefined when the mean is unknown. Every figure
 * draws its error bands with this.
 */
export function band(
  stat: { mean: number | null; std: number | null; sem: number | null },
  sigma: 'sem' | 'std',
  clamp: readonly [number, number] = [-Infinity, Infinity],
): { lo: number; hi: number; err: number } | undefined {
  const mean = stat.mean;
  if (mean === null || !Number.isFinite(mean)) return undefined;
  const s = stat[sigma];
  const err = s !== null && Number.isFinite(s) ? s : 0;
  return { lo: Math.max(clamp[0], mean - err), hi: Math.min(clamp[1], mean + err), err };
}
