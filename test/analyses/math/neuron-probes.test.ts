import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stratifiedSplit } from '../../../src/analyses/math/logistic.js';
import { neuronProbes, takeColumns } from '../../../src/analyses/math/neuron-probes.js';
import { makeRng } from './random.js';

const GRID = [1e-3, 1e-2, 1e-1, 1];

/** n examples (balanced), K neuron columns of N(0, 1); column `planted` (if any) = ±(1 + |N|) by label. */
function activations(n: number, K: number, seed: number, planted?: number): { X: Float32Array; y: Uint8Array } {
  const rng = makeRng(seed);
  const X = new Float32Array(n * K), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let k = 0; k < K; k++) X[i * K + k] = rng.normal();
    if (planted !== undefined) X[i * K + planted] = (y[i] ? 1 : -1) * (1 + Math.abs(rng.normal()));
  }
  return { X, y };
}

test('takeColumns picks rows and columns in the given order', () => {
  const X = Float32Array.from([1, 2, 3, 4, 5, 6]); // 3 rows x 2 columns
  assert.deepEqual(Array.from(takeColumns(X, 2, [2, 0], [1, 0])), [6, 5, 2, 1]);
});

test('a planted linearly separable neuron: its single probe and every ensemble holding it reach 1.0; noise neurons stay near 0.5', () => {
  const n = 1000, K = 8, planted = 3;
  const { X, y } = activations(n, K, 11, planted);
  const { train, valid: test } = stratifiedSplit(y, 0.2, 0);
  assert.equal(test.length, 200);
  const r = neuronProbes(X, n, K, y, { train, test }, GRID);
  assert.equal(r.single[planted]!.test_accuracy, 1);
  assert.equal(r.single[planted]!.train_accuracy, 1);
  assert.equal(r.order[0], planted, 'the separable neuron is ordered first');
  assert.equal(r.ensemble.length, K);
  for (const e of r.ensemble) assert.equal(e.test_accuracy, 1, `k = ${e.k}`);
  // Pure-noise columns: held-out accuracy ~ Binomial(200, 1/2)/200, sd 0.035; 4 sd = 0.14.
  r.single.forEach((s, k) => {
    if (k !== planted) assert.ok(Math.abs(s.test_accuracy - 0.5) <= 0.14, `noise neuron ${k}: ${s.test_accuracy}`);
  });
});

test('shuffled labels: every single and ensemble probe stays within 0.5 ± 0.1 on 400 held-out examples', () => {
  const n = 2000, K = 32;
  const { X } = activations(n, K, 23, 5);
  // Labels independent of the features (a seeded shuffle of a balanced vector): nothing to learn, even
  // from the column that was separable for the original labels.
  const rng = makeRng(99);
  const y = Uint8Array.from({ length: n }, (_, i) => i % 2);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [y[i], y[j]] = [y[j]!, y[i]!];
  }
  const { train, valid: test } = stratifiedSplit(y, 0.2, 0);
  assert.equal(test.length, 400);
  const r = neuronProbes(X, n, K, y, { train, test }, GRID);
  // Held-out accuracy of a probe that learned nothing: Binomial(400, 1/2)/400, sd = 0.025; the band is 4 sd.
  for (const s of [...r.single, ...r.ensemble]) assert.ok(Math.abs(s.test_accuracy - 0.5) <= 0.1, `${JSON.stringify(s)}`);
});
