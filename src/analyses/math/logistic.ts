/**
 * L2-regularized logistic regression, the linear probe of the WiC experiment (paper spec §5.2a) and of
 * the "-ing" neuron probes (§5.3b).
 *
 * Objective (minimized), with x̃ the (optionally standardized) features:
 *
 *   J(w, b) = (1/n) Σᵢ [log(1 + exp(zᵢ)) − yᵢ zᵢ] + (l2/2)·‖w‖²,   zᵢ = w·x̃ᵢ + b
 *
 * The loss is a mean, so `l2` does not need rescaling with n (scikit-learn's C corresponds to
 * l2 = 1/(C·n)). The bias is not penalized. With l2 > 0 the objective is strictly convex in w and has a
 * unique minimizer.
 *
 * Optimizer: L-BFGS (memory 10) with a strong-Wolfe line search. Probe features are wide (d ≈ 8k for
 * WiC pair features) and n is a few thousand, so Newton's d×d Hessian is out, and every pass over X
 * counts. Along a search direction p the margins are z + α·(X̃p), so one pass computes X̃p and every
 * trial step of the line search costs only O(n); an iteration costs two passes over X (X̃p and X̃ᵀr).
 *
 * Standardization (on by default) uses the training mean and population std per feature; it is applied
 * implicitly (w/scale folded into the dot product), so X is never copied. A feature with zero spread
 * keeps scale 1: it is constant, contributes nothing, and the penalty drives its weight to 0.
 */

import { mulberry32 } from './prng.js';

export type Labels = Uint8Array | boolean[] | ArrayLike<number>;

export interface LogisticOptions {
  /** L2 penalty on w (not on b), >= 0. */
  l2: number;
  /** Maximum L-BFGS iterations (default 500). */
  maxIter?: number;
  /** Stop when the largest gradient component is below this (default 1e-6). */
  tol?: number;
  /** Standardize features with the training mean/std (default true). */
  standardize?: boolean;
  /** Warm start in the standardized space of this fit (e.g. the model for a neighbouring l2). */
  init?: { w: Float64Array; b: number };
}

export interface LogisticModel {
  /** Weights in the (standardized, if `mean`/`scale` are set) feature space. */
  w: Float64Array;
  b: number;
  /** Training feature means (set when standardized). */
  mean?: Float64Array;
  /** Training feature standard deviations (set when standardized; 1 for constant features). */
  scale?: Float64Array;
  /** L-BFGS iterations used. */
  iterations: number;
  /** Whether the gradient tolerance was reached (false: stopped by maxIter or a stalled line search). */
  converged: boolean;
  /** Final value of the objective J. */
  objective: number;
}

/** What prediction needs from a model (a reloaded model need not carry the training diagnostics). */
export type LogisticParameters = Pick<LogisticModel, 'w' | 'b' | 'mean' | 'scale'>;

export interface LogisticObjective {
  value: number;
  gradW: Float64Array;
  gradB: number;
}

const LBFGS_MEMORY = 10;
const WOLFE_C1 = 1e-4;
const WOLFE_C2 = 0.9;
const MAX_LINE_SEARCH_STEPS = 60;

/** Fits the probe. X is row-major [n, d]. */
export function trainLogistic(X: Float32Array | Float64Array, n: number, d: number, y: Labels, opts: LogisticOptions): LogisticModel {
  checkShape('trainLogistic', X, n, d);
  const labels = toLabels('trainLogistic', y, n);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i];
  if (positives === 0 || positives === n) {
    throw new Error(`trainLogistic: both classes must be present (got ${positives} positives of ${n}); the unpenalized bias would diverge`);
  }
  if (!(opts.l2 >= 0) || !Number.isFinite(opts.l2)) throw new Error(`trainLogistic: l2 must be a finite number >= 0, got ${opts.l2}`);
  const maxIter = opts.maxIter ?? 500;
  const tol = opts.tol ?? 1e-6;
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new Error(`trainLogistic: maxIter must be a non-negative integer, got ${maxIter}`);
  if (!(tol > 0)) throw new Error(`trainLogistic: tol must be > 0, got ${tol}`);

  const standardization = opts.standardize === false ? undefined : featureStandardization(X, n, d);
  const problem = new Problem(X, n, d, labels, opts.l2, standardization?.mean, standardization?.scale);

  const dim = d + 1; // parameters: w (d) then b
  const x = new Float64Array(dim);
  if (opts.init) {
    if (opts.init.w.length !== d) throw new Error(`trainLogistic: init.w has ${opts.init.w.length} weights, expected ${d}`);
    x.set(opts.init.w);
    x[d] = opts.init.b;
  }
  let z = problem.margins(x);
  let g = problem.gradient(x, z);
  let f = problem.value(x, z);

  const sHist: Float64Array[] = [];
  const yHist: Float64Array[] = [];
  const rhoHist: number[] = [];
  let iterations = 0;
  let converged = maxAbs(g) <= tol;

  while (!converged && iterations < maxIter) {
    const p = twoLoopDirection(g, sHist, yHist, rhoHist);
    let slope = dot(g, p);
    if (!(slope < 0)) {
      // Curvature pairs went stale (rounding): restart from steepest descent.
      sHist.length = yHist.length = rhoHist.length = 0;
      for (let k = 0; k < dim; k++) p[k] = -g[k];
      slope = -dot(g, g);
    }
    // Without curvature memory the direction has the gradient's scale; start with a unit-length step.
    const alpha0 = sHist.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    const u = problem.margins(p); // X̃p plus the bias direction: the margins move by α·u
    const step = problem.lineSearch(x, z, p, u, f, slope, alpha0);
    if (step === undefined) break; // no decrease is possible at this precision

    const gOld = g;
    for (let k = 0; k < dim; k++) x[k] += step.alpha * p[k];
    iterations += 1;
    // Margins are updated incrementally; recompute now and then so rounding cannot drift.
    if (iterations % 50 === 0) z = problem.margins(x);
    else for (let i = 0; i < n; i++) z[i] += step.alpha * u[i];
    g = problem.gradient(x, z);
    f = problem.value(x, z);

    const s = new Float64Array(dim);
    const yv = new Float64Array(dim);
    for (let k = 0; k < dim; k++) {
      s[k] = step.alpha * p[k];
      yv[k] = g[k] - gOld[k];
    }
    const sy = dot(s, yv);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(yv, yv))) {
      sHist.push(s);
      yHist.push(yv);
      rhoHist.push(1 / sy);
      if (sHist.length > LBFGS_MEMORY) {
        sHist.shift();
        yHist.shift();
        rhoHist.shift();
      }
    }
    converged = maxAbs(g) <= tol;
  }

  return {
    w: x.slice(0, d),
    b: x[d],
    ...(standardization ?? {}),
    iterations,
    converged,
    objective: f,
  };
}

/**
 * The objective J and its gradient at (w, b), for checks and for callers that optimize themselves.
 * `mean`/`scale` standardize the features as in a fitted model (omit both for raw features).
 */
export function logisticObjective(
  X: Float32Array | Float64Array, n: number, d: number, y: Labels,
  w: Float64Array, b: number,
  opts: { l2: number; mean?: Float64Array; scale?: Float64Array },
): LogisticObjective {
  checkShape('logisticObjective', X, n, d);
  if (w.length !== d) throw new Error(`logisticObjective: w has ${w.length} weights, expected ${d}`);
  checkStandardization('logisticObjective', opts, d);
  const problem = new Problem(X, n, d, toLabels('logisticObjective', y, n), opts.l2, opts.mean, opts.scale);
  const x = new Float64Array(d + 1);
  x.set(w);
  x[d] = b;
  const z = problem.margins(x);
  const g = problem.gradient(x, z);
  return { value: problem.value(x, z), gradW: g.slice(0, d), gradB: g[d] };
}

/** P(y = 1 | x) for each row of X [n, d]. */
export function predictProba(model: LogisticParameters, X: Float32Array | Float64Array, n: number, d: number): Float64Array {
  checkShape('predictProba', X, n, d);
  if (model.w.length !== d) throw new Error(`predictProba: the model has ${model.w.length} weights but X has d = ${d}`);
  checkStandardization('predictProba', model, d);
  const problem = new Problem(X, n, d, new Float64Array(n), 0, model.mean, model.scale);
  const x = new Float64Array(d + 1);
  x.set(model.w);
  x[d] = model.b;
  return problem.margins(x).map(sigmoid);
}

/** Fraction of rows whose prediction (class 1 when P >= 0.5) equals the label. */
export function accuracy(model: LogisticParameters, X: Float32Array | Float64Array, n: number, d: number, y: Labels): number {
  if (n === 0) throw new Error('accuracy: empty input');
  const labels = toLabels('accuracy', y, n);
  const p = predictProba(model, X, n, d);
  let correct = 0;
  for (let i = 0; i < n; i++) if ((p[i] >= 0.5 ? 1 : 0) === labels[i]) correct++;
  return correct / n;
}

export interface L2SelectionOptions extends Omit<LogisticOptions, 'l2' | 'init'> {
  /** Candidate penalties (default 1e-5 … 1, decades). */
  grid?: number[];
  /** Share of each class held out for validation (default 0.2). */
  validationFraction?: number;
  /** Seed of the deterministic split (default 0). */
  seed?: number;
}

export interface L2Selection {
  l2: number;
  /** One row per grid value: validation accuracy and mean log-loss of the model fit on the training part. */
  scores: { l2: number; accuracy: number; logLoss: number }[];
  /** A model refit on all n rows with the chosen l2. */
  model: LogisticModel;
}

/**
 * Picks l2 from a grid by accuracy on a held-out fold, then refits on everything. The split is
 * stratified and deterministic (a seeded shuffle per class), so reruns choose the same l2. Ties in
 * accuracy go to the lower validation log-loss, then to the larger l2 (the simpler model).
 */
export function selectL2ByValidation(X: Float32Array | Float64Array, n: number, d: number, y: Labels, opts: L2SelectionOptions = {}): L2Selection {
  checkShape('selectL2ByValidation', X, n, d);
  const labels = toLabels('selectL2ByValidation', y, n);
  const grid = [...(opts.grid ?? [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1])].sort((a, b) => b - a);
  if (grid.length === 0) throw new Error('selectL2ByValidation: empty l2 grid');
  const fraction = opts.validationFraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`selectL2ByValidation: validationFraction must be in (0, 1), got ${fraction}`);

  const { train, valid } = stratifiedSplit(labels, fraction, opts.seed ?? 0);
  const Xtr = takeRows(X, d, train);
  const Xva = takeRows(X, d, valid);
  const ytr = Uint8Array.from(train, (i) => labels[i]);
  const yva = Uint8Array.from(valid, (i) => labels[i]);
  const base = { maxIter: opts.maxIter, tol: opts.tol, standardize: opts.standardize };

  const scores: L2Selection['scores'] = [];
  let warm: LogisticModel | undefined;
  // Largest penalty first: each fit warm-starts the next, less regularized one.
  for (const l2 of grid) {
    warm = trainLogistic(Xtr, train.length, d, ytr, { ...base, l2, init: warm && { w: warm.w, b: warm.b } });
    const p = predictProba(warm, Xva, valid.length, d);
    let correct = 0;
    let loss = 0;
    for (let i = 0; i < valid.length; i++) {
      if ((p[i] >= 0.5 ? 1 : 0) === yva[i]) correct++;
      loss -= Math.log(Math.max(1e-300, yva[i] ? p[i] : 1 - p[i]));
    }
    scores.push({ l2, accuracy: correct / valid.length, logLoss: loss / valid.length });
  }
  let best = scores[0];
  for (const s of scores) {
    if (s.accuracy > best.accuracy || (s.accuracy === best.accuracy && s.logLoss < best.logLoss)) best = s;
  }
  const model = trainLogistic(X, n, d, labels, { ...base, l2: best.l2 });
  return { l2: best.l2, scores, model };
}

// ---------------------------------------------------------------------------------------------------

/** The data and penalty of one fit; parameters are a Float64Array [w (d), b]. */
class Problem {
  constructor(
    readonly X: Float32Array | Float64Array,
    readonly n: number,
    readonly d: number,
    readonly y: Float64Array,
    readonly l2: number,
    readonly mean?: Float64Array,
    readonly scale?: Float64Array,
  ) {}

  /**
   * zᵢ = Σₖ x̃ᵢₖ wₖ + b for parameters (or a direction) `v`. Standardization is folded in:
   * Σₖ (xᵢₖ − μₖ)/sₖ · wₖ = Σₖ xᵢₖ (wₖ/sₖ) − Σₖ μₖ wₖ/sₖ.
   */
  margins(v: Float64Array): Float64Array {
    const { X, n, d, mean, scale } = this;
    const eff = new Float64Array(d);
    let offset = v[d];
    for (let k = 0; k < d; k++) {
      eff[k] = scale ? v[k] / scale[k] : v[k];
      if (mean) offset -= mean[k] * eff[k];
    }
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const row = i * d;
      let s = offset;
      for (let k = 0; k < d; k++) s += X[row + k] * eff[k];
      z[i] = s;
    }
    return z;
  }

  value(v: Float64Array, z: Float64Array): number {
    let loss = 0;
    for (let i = 0; i < this.n; i++) loss += softplus(z[i]) - this.y[i] * z[i];
    let ww = 0;
    for (let k = 0; k < this.d; k++) ww += v[k] * v[k];
    return loss / this.n + 0.5 * this.l2 * ww;
  }

  gradient(v: Float64Array, z: Float64Array): Float64Array {
    const { X, n, d, mean, scale } = this;
    const raw = new Float64Array(d);
    let rSum = 0;
    for (let i = 0; i < n; i++) {
      const r = sigmoid(z[i]) - this.y[i];
      if (r === 0) continue;
      rSum += r;
      const row = i * d;
      for (let k = 0; k < d; k++) raw[k] += r * X[row + k];
    }
    const g = new Float64Array(d + 1);
    for (let k = 0; k < d; k++) {
      let gk = raw[k];
      if (mean) gk -= mean[k] * rSum;
      if (scale) gk /= scale[k];
      g[k] = gk / n + this.l2 * v[k];
    }
    g[d] = rSum / n;
    return g;
  }

  /**
   * Step length along p satisfying the strong Wolfe conditions, using only O(n) work per trial:
   * φ(α) = J(x + αp) with margins z + αu. φ is convex, so φ' is non-decreasing, and a trial with
   * φ'(α) <= 0 proves φ(α) < φ(0) without comparing function values. That matters near the optimum,
   * where the decrease is below the rounding of J itself and an Armijo test on values alone would stall.
   * Brackets the step (doubling while the slope is still steep), then narrows it by safeguarded secant
   * steps on φ'. Undefined when no decreasing step could be found.
   */
  lineSearch(x: Float64Array, z: Float64Array, p: Float64Array, u: Float64Array, f0: number, slope0: number, alpha0: number): { alpha: number } | undefined {
    const { n, d } = this;
    let wp = 0;
    let pp = 0;
    let ww = 0;
    for (let k = 0; k < d; k++) {
      wp += x[k] * p[k];
      pp += p[k] * p[k];
      ww += x[k] * x[k];
    }
    const phi = (alpha: number): { f: number; df: number } => {
      let loss = 0;
      let dLoss = 0;
      for (let i = 0; i < n; i++) {
        const zi = z[i] + alpha * u[i];
        loss += softplus(zi) - this.y[i] * zi;
        dLoss += (sigmoid(zi) - this.y[i]) * u[i];
      }
      return {
        f: loss / n + 0.5 * this.l2 * (ww + 2 * alpha * wp + alpha * alpha * pp),
        df: dLoss / n + this.l2 * (wp + alpha * pp),
      };
    };

    let lo = { alpha: 0, df: slope0 };
    let hi: { alpha: number; df: number } | undefined;
    let alpha = alpha0;
    for (let step = 0; step < MAX_LINE_SEARCH_STEPS; step++) {
      const { f, df } = phi(alpha);
      if (!Number.isFinite(f) || !Number.isFinite(df)) {
        hi = { alpha, df: Infinity };
      } else {
        const decreased = df <= 0 || f <= f0 + WOLFE_C1 * alpha * slope0;
        const flatEnough = Math.abs(df) <= -WOLFE_C2 * slope0;
        if (decreased && flatEnough) return { alpha };
        if (df > 0 || !decreased) hi = { alpha, df };
        else lo = { alpha, df }; // still descending steeply: the step can grow
      }
      if (hi === undefined) {
        alpha *= 2;
        continue;
      }
      const width = hi.alpha - lo.alpha;
      if (width <= 1e-16 * Math.max(1, hi.alpha)) break;
      // Secant on φ' between the bracket ends, kept inside the middle 80 % of the bracket.
      let next = Number.isFinite(hi.df) && hi.df !== lo.df ? lo.alpha - (lo.df * width) / (hi.df - lo.df) : NaN;
      if (!(next > lo.alpha + 0.1 * width && next < hi.alpha - 0.1 * width)) next = lo.alpha + 0.5 * width;
      alpha = next;
    }
    // Out of trials: the last point still descending is a guaranteed decrease, if there is one.
    return lo.alpha > 0 ? { alpha: lo.alpha } : undefined;
  }
}

/** L-BFGS two-loop recursion: −H·g with H from the stored curvature pairs. */
function twoLoopDirection(g: Float64Array, sHist: Float64Array[], yHist: Float64Array[], rhoHist: number[]): Float64Array {
  const q = Float64Array.from(g);
  const m = sHist.length;
  const a = new Float64Array(m);
  for (let j = m - 1; j >= 0; j--) {
    a[j] = rhoHist[j] * dot(sHist[j], q);
    axpy(-a[j], yHist[j], q);
  }
  if (m > 0) {
    // Initial Hessian scale γ = sᵀy / yᵀy from the newest pair (Nocedal & Wright eq. 7.20).
    const gamma = dot(sHist[m - 1], yHist[m - 1]) / dot(yHist[m - 1], yHist[m - 1]);
    for (let k = 0; k < q.length; k++) q[k] *= gamma;
  }
  for (let j = 0; j < m; j++) {
    const beta = rhoHist[j] * dot(yHist[j], q);
    axpy(a[j] - beta, sHist[j], q);
  }
  for (let k = 0; k < q.length; k++) q[k] = -q[k];
  return q;
}

function featureStandardization(X: Float32Array | Float64Array, n: number, d: number): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += X[i * d + k];
  for (let k = 0; k < d; k++) mean[k] /= n;
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) {
    const c = X[i * d + k] - mean[k];
    scale[k] += c * c;
  }
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(scale[k] / n);
    scale[k] = s > 0 ? s : 1;
  }
  return { mean, scale };
}

/**
 * A deterministic stratified split: per class a seeded shuffle, then round(fraction · class size) (at
 * least 1, at most size − 1) go to `valid`. Both parts are in index order.
 */
export function stratifiedSplit(labels: ArrayLike<number>, fraction: number, seed: number): { train: number[]; valid: number[] } {
  const rand = mulberry32(seed);
  const train: number[] = [];
  const valid: number[] = [];
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === cls) idx.push(i);
    if (idx.length < 2) throw new Error(`stratifiedSplit: class ${cls} needs at least 2 examples to split, has ${idx.length}`);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const nValid = Math.min(idx.length - 1, Math.max(1, Math.round(fraction * idx.length)));
    valid.push(...idx.slice(0, nValid));
    train.push(...idx.slice(nValid));
  }
  // Keep the original order within each part: deterministic and friendly to the cache.
  return { train: train.sort((a, b) => a - b), valid: valid.sort((a, b) => a - b) };
}

function takeRows(X: Float32Array | Float64Array, d: number, rows: number[]): Float32Array | Float64Array {
  const out = X instanceof Float64Array ? new Float64Array(rows.length * d) : new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(X.subarray(r * d, (r + 1) * d), i * d));
  return out;
}


function checkShape(fn: string, X: Float32Array | Float64Array, n: number, d: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${fn}: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`${fn}: d must be a positive integer, got ${d}`);
  if (X.length !== n * d) throw new Error(`${fn}: X has ${X.length} values, expected n*d = ${n}*${d} = ${n * d}`);
}

function checkStandardization(fn: string, s: { mean?: Float64Array; scale?: Float64Array }, d: number): void {
  if ((s.mean && s.mean.length !== d) || (s.scale && s.scale.length !== d)) throw new Error(`${fn}: mean/scale must have d = ${d} entries`);
}

function toLabels(fn: string, y: Labels, n: number): Float64Array {
  if (y.length !== n) throw new Error(`${fn}: ${y.length} labels for n = ${n} rows`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(y[i]);
    if (v !== 0 && v !== 1) throw new Error(`${fn}: label ${i} must be 0/1 or boolean, got ${String(y[i])}`);
    out[i] = v;
  }
  return out;
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + eᶻ) without overflow for large |z|. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let k = 0; k < x.length; k++) y[k] += alpha * x[k];
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]));
  return m;
}
