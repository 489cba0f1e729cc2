import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, logisticObjective, predictProba, selectL2ByValidation, trainLogistic } from '../../../src/analyses/math/logistic.js';
import { makeRng, normalMatrix } from './random.js';

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} != ${expected} (tol ${tol})`);

const norm = (w: ArrayLike<number>) => Math.sqrt(Array.from(w).reduce((s, v) => s + v * v, 0));

/** Points labelled by a hidden hyperplane, keeping only those at least `margin` away from it. */
function separable(seed: number, n: number, d: number, margin: number): { X: Float32Array; y: Uint8Array } {
  const rng = makeRng(seed);
  const w = Array.from({ length: d }, () => rng.normal());
  const X = new Float32Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; ) {
    const x = Array.from({ length: d }, () => rng.normal() * 2 + 1);
    const s = x.reduce((acc, v, k) => acc + v * w[k], 0) - 0.5;
    if (Math.abs(s) < margin) continue;
    X.set(x, i * d);
    y[i] = s > 0 ? 1 : 0;
    i++;
  }
  return { X, y };
}

/** Noisy labels from a logistic model: not separable. */
function noisy(seed: number, n: number, d: number): { X: Float32Array; y: Uint8Array } {
  const rng = makeRng(seed);
  const X = normalMatrix(rng, n, d);
  for (let i = 0; i < n * d; i++) X[i] = X[i] * (1 + (i % d)) + (i % d); // uneven scales and offsets
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0.2;
    for (let k = 0; k < d; k++) z += X[i * d + k] / (1 + k) * (k % 2 ? -0.8 : 1);
    y[i] = rng.uniform() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { X, y };
}

/** Explicitly standardized copy (population std), as a reference for the implicit standardization. */
function standardized(X: Float32Array, n: number, d: number): { Z: Float64Array; mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += X[i * d + k];
    mean[k] = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (X[i * d + k] - mean[k]) ** 2;
    scale[k] = Math.sqrt(v / n);
  }
  const Z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) Z[i * d + k] = (X[i * d + k] - mean[k]) / scale[k];
  return { Z, mean, scale };
}

/** The objective written out directly, on already-standardized features. */
function referenceLossAndGrad(Z: Float64Array, n: number, d: number, y: Uint8Array, w: Float64Array, b: number, l2: number) {
  let loss = 0;
  const gw = new Float64Array(d);
  let gb = 0;
  for (let i = 0; i < n; i++) {
    let z = b;
    for (let k = 0; k < d; k++) z += Z[i * d + k] * w[k];
    const p = 1 / (1 + Math.exp(-z));
    loss += -(y[i] ? Math.log(p) : Math.log(1 - p));
    for (let k = 0; k < d; k++) gw[k] += (p - y[i]) * Z[i * d + k] / n;
    gb += (p - y[i]) / n;
  }
  const ww = w.reduce((s, v) => s + v * v, 0);
  for (let k = 0; k < d; k++) gw[k] += l2 * w[k];
  return { loss: loss / n + 0.5 * l2 * ww, gw, gb };
}

test('separates a linearly separable set: accuracy 1 on train and on held-out points', () => {
  const d = 5;
  const all = separable(1, 300, d, 0.5);
  const Xtr = all.X.subarray(0, 200 * d);
  const ytr = all.y.subarray(0, 200);
  const model = trainLogistic(Xtr, 200, d, ytr, { l2: 1e-3 });
  assert.equal(accuracy(model, Xtr, 200, d, ytr), 1);
  assert.equal(accuracy(model, all.X.subarray(200 * d), 100, d, all.y.subarray(200)), 1);
  assert.ok(model.converged, `converged in ${model.iterations} iterations`);
});

test('objective matches a direct computation, and its gradient matches central finite differences', () => {
  const n = 30;
  const d = 4;
  const { X, y } = noisy(2, n, d);
  const { Z, mean, scale } = standardized(X, n, d);
  const rng = makeRng(3);
  const w = new Float64Array(d).map(() => rng.normal());
  const b = 0.3;
  const l2 = 0.7;
  const got = logisticObjective(X, n, d, y, w, b, { l2, mean, scale });
  const ref = referenceLossAndGrad(Z, n, d, y, w, b, l2);
  close(got.value, ref.loss, 1e-12, 'value');
  const h = 1e-5;
  for (let k = 0; k <= d; k++) {
    const at = (delta: number) => {
      const w2 = Float64Array.from(w);
      let b2 = b;
      if (k < d) w2[k] += delta;
      else b2 += delta;
      return logisticObjective(X, n, d, y, w2, b2, { l2, mean, scale }).value;
    };
    const numeric = (at(h) - at(-h)) / (2 * h);
    close(k < d ? got.gradW[k] : got.gradB, numeric, 1e-7, `dJ/dθ${k}`);
  }
  // Raw features (no standardization) too.
  const raw = logisticObjective(X, n, d, y, w, b, { l2 });
  const refRaw = referenceLossAndGrad(Float64Array.from(X), n, d, y, w, b, l2);
  close(raw.value, refRaw.loss, 1e-12, 'raw value');
  for (let k = 0; k < d; k++) close(raw.gradW[k], refRaw.gw[k], 1e-12, `raw grad ${k}`);
});

test('a larger l2 shrinks the weights', () => {
  const n = 150;
  const d = 6;
  const { X, y } = noisy(4, n, d);
  const norms = [1e-3, 1e-2, 1e-1, 1, 100].map((l2) => norm(trainLogistic(X, n, d, y, { l2 }).w));
  for (let i = 1; i < norms.length; i++) assert.ok(norms[i] < norms[i - 1], `norms should decrease: ${norms.join(', ')}`);
  assert.ok(norms[norms.length - 1] < 0.01);
});

test('non-separable set: L-BFGS reaches the optimum that long plain gradient descent reaches', () => {
  const n = 120;
  const d = 3;
  const { X, y } = noisy(5, n, d);
  const l2 = 0.05;
  for (const standardize of [false, true]) {
    const model = trainLogistic(X, n, d, y, { l2, standardize, tol: 1e-10 });
    assert.ok(model.converged);
    // Reference: fixed-step gradient descent on explicitly (or not) standardized features, run long.
    const Z = standardize ? standardized(X, n, d).Z : Float64Array.from(X);
    let w = new Float64Array(d);
    let b = 0;
    const step = standardize ? 1 : 0.05; // raw features have scales up to 3 and offsets up to 2
    for (let it = 0; it < 40000; it++) {
      const g = referenceLossAndGrad(Z, n, d, y, w, b, l2);
      w = w.map((v, k) => v - step * g.gw[k]);
      b -= step * g.gb;
    }
    const final = referenceLossAndGrad(Z, n, d, y, w, b, l2);
    assert.ok(Math.max(...final.gw.map(Math.abs), Math.abs(final.gb)) < 1e-9, 'reference GD converged');
    for (let k = 0; k < d; k++) close(model.w[k], w[k], 1e-7, `standardize=${standardize} w${k}`);
    close(model.b, b, 1e-7, `standardize=${standardize} b`);
    close(model.objective, final.loss, 1e-12, 'objective');
  }
});

test('wide features (d > n) converge and the fitted point is stationary', () => {
  const n = 80;
  const d = 300;
  const { X, y } = separable(6, n, d, 0.2);
  const model = trainLogistic(X, n, d, y, { l2: 1e-2 });
  assert.ok(model.converged, `stopped after ${model.iterations} iterations`);
  const g = logisticObjective(X, n, d, y, model.w, model.b, { l2: 1e-2, mean: model.mean, scale: model.scale });
  assert.ok(Math.max(...g.gradW.map(Math.abs), Math.abs(g.gradB)) <= 1e-6);
  assert.equal(accuracy(model, X, n, d, y), 1);
});

test('predictProba is the sigmoid of the standardized margin; boolean labels and warm starts work', () => {
  const model = { w: Float64Array.from([2, -1]), b: 0.5, mean: Float64Array.from([1, 0]), scale: Float64Array.from([2, 1]), iterations: 0, converged: true, objective: 0 };
  const X = Float32Array.from([1, 0, 3, 1, -1, 2]);
  const p = predictProba(model, X, 3, 2);
  // Margins by hand: row0 (0)*2 - 0 + 0.5 = 0.5; row1 (1)*2 - 1 + 0.5 = 1.5; row2 (-1)*2 - 2 + 0.5 = -3.5.
  [0.5, 1.5, -3.5].forEach((z, i) => close(p[i], 1 / (1 + Math.exp(-z)), 1e-15, `p${i}`));
  assert.equal(accuracy(model, X, 3, 2, [true, true, false]), 1);
  assert.equal(accuracy(model, X, 3, 2, [false, true, false]), 2 / 3);

  const { X: Xn, y } = noisy(7, 60, 3);
  const cold = trainLogistic(Xn, 60, 3, Array.from(y, Boolean), { l2: 0.1, tol: 1e-9 });
  const warm = trainLogistic(Xn, 60, 3, y, { l2: 0.1, tol: 1e-9, init: cold });
  assert.ok(warm.iterations <= 1, `warm start from the optimum needs no work, took ${warm.iterations}`);
});

test('selectL2ByValidation picks the useful penalty deterministically and refits on all rows', () => {
  const d = 4;
  const { X, y } = separable(8, 160, d, 0.3);
  const grid = [100, 1e-3];
  const a = selectL2ByValidation(X, 160, d, y, { grid });
  const b = selectL2ByValidation(X, 160, d, y, { grid });
  assert.equal(a.l2, 1e-3);
  assert.deepEqual(a.scores, b.scores);
  assert.equal(a.scores.length, 2);
  const strong = a.scores.find((s) => s.l2 === 100)!;
  const weak = a.scores.find((s) => s.l2 === 1e-3)!;
  assert.ok(weak.accuracy > strong.accuracy);
  assert.equal(accuracy(a.model, X, 160, d, y), 1);
});

test('bad arguments throw clear errors', () => {
  const X = new Float32Array(6);
  assert.throws(() => trainLogistic(X, 3, 3, [0, 1, 0], { l2: 1 }), /X has 6 values/);
  assert.throws(() => trainLogistic(X, 3, 2, [0, 1], { l2: 1 }), /2 labels for n = 3/);
  assert.throws(() => trainLogistic(X, 3, 2, [1, 1, 1], { l2: 1 }), /both classes/);
  assert.throws(() => trainLogistic(X, 3, 2, [0, 2, 1], { l2: 1 }), /0\/1/);
  assert.throws(() => trainLogistic(X, 3, 2, [0, 1, 1], { l2: -1 }), /l2/);
  assert.throws(() => trainLogistic(new Float32Array(0), 0, 2, [], { l2: 1 }), /n must be a positive integer/);
  const model = trainLogistic(Float32Array.from([0, 1, 1, 0, 2, 2]), 3, 2, [0, 1, 1], { l2: 1 });
  assert.throws(() => predictProba(model, new Float32Array(3), 1, 3), /d = 3/);
  assert.throws(() => selectL2ByValidation(Float32Array.from([0, 1, 2]), 3, 1, [0, 1, 1]), /class 0 needs at least 2/);
});
