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
 * Which spread an error band shows (`--sigma`): `sem`, the standard error of the mean across documents
 * (the uncertainty of the plotted mean; layerlab's default), or `std`, one standard deviation across
 * documents (the spread of the per-document means, sem × √docs; the paper's figures, "1σ"). For a
 * statistic whose units are single values (docs = n) `std` is their sample std.
 */
export const SIGMAS = ['sem', 'std'] as const;
export type Sigma = (typeof SIGMAS)[number];

/** A statistic's spread of the given kind: sem, or the std across documents (sem × √docs); NaN when unknown. */
export function spread(stat: { sem: number | null; docs: number }, sigma: Sigma): number {
  const sem = stat.sem;
  if (sem === null || !Number.isFinite(sem)) return NaN;
  return sigma === 'sem' ? sem : sem * Math.sqrt(stat.docs);
}

/**
 * The ±1 sigma band of a statistic: [mean − s, mean + s] with s its {@link spread} (an unknown spread,
 * e.g. one document, counts as 0: the band collapses onto the line), clamped to `clamp` when given (e.g.
 * [0, 1] for probabilities, [0, ∞) for a divergence). Undefined when the mean is unknown. Every figure
 * draws its error bands with this.
 */
export function band(
  stat: { mean: number | null; sem: number | null; docs: number },
  sigma: Sigma,
  clamp: readonly [number, number] = [-Infinity, Infinity],
): { lo: number; hi: number; err: number } | undefined {
  const s = spread(stat, sigma);
  return errorBand(stat.mean, Number.isFinite(s) ? s : 0, clamp);
}

/** [mean − err, mean + err] clamped; undefined when the mean is unknown. */
export function errorBand(mean: number | null, err: number, clamp: readonly [number, number] = [-Infinity, Infinity]): { lo: number; hi: number; err: number } | undefined {
  if (mean === null || !Number.isFinite(mean)) return undefined;
  return { lo: Math.max(clamp[0], mean - err), hi: Math.min(clamp[1], mean + err), err };
}
