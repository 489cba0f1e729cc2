/**
 * Averaging curves of models with different layer counts on relative depth: a common grid, linear
 * interpolation onto it (never extrapolated), then the mean and spread across models at each grid point.
 * Pure functions, tested on hand-built curves (test/report/depth-average.test.ts).
 */
import { RunningStats } from '../../stats/running-stats.js';
import { statOfValues, type Stat } from '../../stats/stat.js';

/** One point of a curve on relative depth. */
export interface DepthPoint {
  depth: number;
  value: number;
}

/** Tolerance on relative depths: ℓ/(L−1) computed in two ways may differ in the last bit. */
const EPS = 1e-9;

/**
 * The common grid: the relative depths ℓ/(L−1), ℓ = 0..L−1, of the deepest model (L = `layers`). Its own
 * curve is then used exactly and only the shallower models are interpolated.
 */
export function depthGrid(layers: number): number[] {
  if (!Number.isInteger(layers) || layers < 1) throw new RangeError(`depthGrid: layers must be a positive integer, got ${layers}`);
  if (layers === 1) return [0];
  return Array.from({ length: layers }, (_, i) => i / (layers - 1));
}

/**
 * The curve's value at depth `x` by linear interpolation between its two neighbouring points (the point's
 * own value at a point). Undefined outside the curve's depth range: a model says nothing beyond its
 * first and last points, so nothing is extrapolated. `curve` must be sorted by depth.
 */
export function interpolateAt(curve: readonly DepthPoint[], x: number): number | undefined {
  if (curve.length === 0) return undefined;
  const first = curve[0]!;
  const last = curve[curve.length - 1]!;
  if (x < first.depth - EPS || x > last.depth + EPS) return undefined;
  if (Math.abs(x - first.depth) <= EPS) return first.value;
  for (let i = 1; i < curve.length; i++) {
    const b = curve[i]!;
    if (Math.abs(x - b.depth) <= EPS) return b.value;
    if (x < b.depth) {
      const a = curve[i - 1]!;
      const t = (x - a.depth) / (b.depth - a.depth);
      return a.value + t * (b.value - a.value);
    }
  }
  return last.value;
}

/** One grid point of the average: each curve's interpolated value (undefined where it does not reach) and their statistic. */
export interface AveragePoint {
  depth: number;
  values: Array<number | undefined>;
  /** Mean, sample std (n − 1) and std/√n over the curves that reach this depth; n = how many. */
  stat: Stat;
}

/** Every curve interpolated onto `grid`, and the mean and spread across curves at each grid point. */
export function averageOnGrid(curves: ReadonlyArray<readonly DepthPoint[]>, grid: readonly number[]): AveragePoint[] {
  const sorted = curves.map((c) => {
    for (const p of c) if (!Number.isFinite(p.depth) || !Number.isFinite(p.value)) throw new RangeError(`averageOnGrid: non-finite point (${p.depth}, ${p.value})`);
    return [...c].sort((a, b) => a.depth - b.depth);
  });
  return grid.map((depth) => {
    const values = sorted.map((c) => interpolateAt(c, depth));
    const acc = new RunningStats();
    for (const v of values) if (v !== undefined) acc.add(v);
    return { depth, values, stat: statOfValues(acc) };
  });
}
