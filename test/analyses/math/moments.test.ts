import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyNeuron, vocabMoments } from '../../../src/analyses/math/moments.js';
import { makeRng } from './random.js';

const close = (actual: number, expected: number, tol: number) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected} (tol ${tol})`);

/** k ones and n − k zeros: an exact Bernoulli(p = k/n) sample. */
function bernoulli(n: number, k: number): Float64Array {
  const v = new Float64Array(n);
  v.fill(1, 0, k);
  return v;
}

test('Bernoulli(p): mean p, variance p(1-p), skew (1-2p)/sqrt(p(1-p)), kurt (1-6p(1-p))/(p(1-p)) + 3', () => {
  for (const [n, k] of [[10, 1], [100, 3], [8, 4], [1000, 990]] as const) {
    const p = k / n;
    const q = p * (1 - p);
    const m = vocabMoments(bernoulli(n, k));
    close(m.mean, p, 1e-12);
    close(m.variance, q, 1e-12);
    close(m.skew, (1 - 2 * p) / Math.sqrt(q), 1e-9);
    close(m.kurtosis, (1 - 6 * q) / q + 3, 1e-9);
  }
});

test('a rare large value (1 of 100) is a prediction neuron; its mirror image a suppression neuron', () => {
  // p = 0.01: kurt = (1 - 6·0.0099)/0.0099 + 3 ≈ 98, far above 10.
  const up = vocabMoments(bernoulli(100, 1));
  const down = vocabMoments(bernoulli(100, 1).map((x) => -x));
  assert.equal(classifyNeuron(up.kurtosis, up.skew), 'prediction');
  assert.equal(classifyNeuron(down.kurtosis, down.skew), 'suppression');
  close(down.kurtosis, up.kurtosis, 1e-9);
  close(down.skew, -up.skew, 1e-9);
});

test('a symmetric set has skew 0; moments are shift- and scale-invariant', () => {
  const v = new Float64Array([-3, -1, -0.5, 0, 0.5, 1, 3]);
  const m = vocabMoments(v);
  close(m.skew, 0, 1e-15);
  const shifted = vocabMoments(v.map((x) => 1e3 + 0.01 * x));
  close(shifted.skew, 0, 1e-6);
  close(shifted.kurtosis, m.kurtosis, 1e-6);
  // Hand value: Σx² = 9+1+0.25+0+0.25+1+9 = 20.5, Σx⁴ = 81+1+0.0625+0+0.0625+1+81 = 164.125.
  close(m.variance, 20.5 / 7, 1e-12);
  close(m.kurtosis, (164.125 / 7) / (20.5 / 7) ** 2, 1e-12);
});

test('uniform on many evenly spaced points: kurtosis → 9/5, skew 0', () => {
  const n = 100001;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = i / (n - 1);
  const m = vocabMoments(v);
  close(m.kurtosis, 1.8, 1e-4);
  close(m.skew, 0, 1e-4);
  close(m.variance, 1 / 12, 1e-5);
  assert.equal(classifyNeuron(m.kurtosis, m.skew), 'none');
});

test('a Gaussian sample has kurtosis near 3', () => {
  const rng = makeRng(7);
  const v = new Float64Array(50000).map(() => rng.normal());
  const m = vocabMoments(v);
  close(m.kurtosis, 3, 0.1);
  close(m.skew, 0, 0.05);
});

test('classifyNeuron thresholds: strict >, sign of skew, custom threshold, NaN', () => {
  assert.equal(classifyNeuron(10, 5), 'none');
  assert.equal(classifyNeuron(10.01, 5), 'prediction');
  assert.equal(classifyNeuron(11, -0.1), 'suppression');
  assert.equal(classifyNeuron(11, 0), 'none');
  assert.equal(classifyNeuron(6, 1, 5), 'prediction');
  assert.equal(classifyNeuron(NaN, 1), 'none');
  assert.equal(classifyNeuron(20, NaN), 'none');
});

test('constant input gives NaN shape; empty and non-finite input throw', () => {
  const m = vocabMoments(new Float32Array([2, 2, 2]));
  assert.equal(m.variance, 0);
  assert.ok(Number.isNaN(m.skew) && Number.isNaN(m.kurtosis));
  assert.equal(classifyNeuron(m.kurtosis, m.skew), 'none');
  assert.throws(() => vocabMoments(new Float32Array(0)), /empty/);
  assert.throws(() => vocabMoments(new Float64Array([1, NaN])), /non-finite/);
});
