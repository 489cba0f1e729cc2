import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proposeStageBoundaries, type StageSignals } from '../../../src/analyses/math/stage-boundaries.js';

const L = 24;
const layers = (f: (l: number) => number) => Array.from({ length: L }, (_, l) => f(l));
const points = (f: (i: number) => number) => Array.from({ length: L + 1 }, (_, i) => f(i));

// Synthetic curves whose boundaries are known by construction (see each comment).
/** Peak 0.10 at layer 1, 0.07 at layer 3, 0.02 from layer 4: midpoint 0.06 is first undercut at layer 4. */
const localAttention = layers((l) => [0.08, 0.1, 0.09, 0.07][l] ?? 0.02);
/** KL 5 → 0.04: on a log scale the midpoint is √(5·0.04) ≈ 0.45, first undercut at layer 4 (0.05). */
const deletionKl = layers((l) => (l === L - 1 ? 3 : [5, 2, 1.5, 1][l] ?? 0.04 + 0.01 * (l % 2)));
/** Flat at 6 up to point 12, then linear to 0 at point 24: the decline starts with block 12. */
const logitLensKl = points((i) => (i <= 12 ? 6 : 6 * (24 - i) / 12));
/** Flat 15 up to point 12, linear to 5 at point 22, then up to 6 at 24: decline from block 12, rise from block 22. */
const logitLensEntropy = points((i) => (i <= 12 ? 15 : i <= 22 ? 15 - (i - 12) : 5 + (i - 22) / 2));
/** 0 until layer 11, 0.03 at 12 (= 20 % of the 0.15 maximum at layer 20), then down at the end. */
const predictionDensity = layers((l) => (l < 12 ? 0 : l <= 20 ? 0.03 + (0.12 * (l - 12)) / 8 : [0.1, 0.06, 0.04][l - 21]));
/** Below prediction everywhere until layer 21, above it from 21 on. */
const suppressionDensity = layers((l) => (l < 16 ? 0 : l < 21 ? 0.01 : [0.12, 0.2, 0.25][l - 21]));
/** 10 through layer 19, then 12, 14, 40, 80: the midpoint 45 of the rise 10 → 80 is first reached at layer 23. */
const mlpOutputNorm = layers((l) => (l < 20 ? 10 : [12, 14, 40, 80][l - 20]));

const only = (signals: StageSignals, stage: 2 | 3 | 4) => proposeStageBoundaries(L, signals).boundaries.find((b) => b.stage === stage)!;

test('each signal alone recovers the boundary built into its synthetic curve', () => {
  assert.equal(only({ localAttention }, 2).layer, 4);
  assert.equal(only({ deletionKl }, 2).layer, 4);
  assert.equal(only({ deletionAgreement: layers((l) => (l < 3 ? 0.2 : 0.95)) }, 2).layer, 3);
  assert.equal(only({ logitLensKl }, 3).layer, 12);
  assert.equal(only({ predictionDensity }, 3).layer, 12);
  assert.equal(only({ predictionDensity, suppressionDensity }, 4).layer, 21);
  assert.equal(only({ mlpOutputNorm }, 4).layer, 23);
  const entropyOnly = proposeStageBoundaries(L, { logitLensEntropy }).boundaries;
  assert.equal(entropyOnly[1].layer, 12);
  assert.equal(entropyOnly[2].layer, 22);
});

test('all signals: boundaries are rounded means of the candidates, increasing, with evidence', () => {
  const r = proposeStageBoundaries(L, { localAttention, deletionKl, logitLensKl, logitLensEntropy, predictionDensity, suppressionDensity, mlpOutputNorm });
  assert.deepEqual(r.boundaries.map((b) => b.stage), [2, 3, 4]);
  // Stage 4 candidates: suppression 21, MLP norm 23, entropy rise 22 → mean 22.
  assert.deepEqual(r.boundaries.map((b) => b.layer), [4, 12, 22]);
  r.boundaries.forEach((b) => assert.equal(b.relativeDepth, b.layer / (L - 1)));
  assert.match(r.boundaries[2].evidence.join('\n'), /rounded mean of layers 21, 23, 22 = 22/);
  assert.match(r.boundaries[0].evidence.join('\n'), /local attention: peaks at layer 1/);
  assert.equal(r.signalsUsed.length, 8);
  assert.ok(r.method.length > 100);
});

test('the GPT-2 small neuron counts from the paper spec put stage 3 at layer 9 and stage 4 at layer 11', () => {
  // Spec §5.3 table (d_mlp 3072). Prediction max 97 (layer 10): 20 % = 19.4, first reached by 57 at layer 9.
  // Suppression exceeds prediction only at layer 11 (94 > 52).
  const pred = [0, 0, 0, 1, 1, 2, 0, 2, 14, 57, 97, 52].map((c) => c / 3072);
  const supp = [0, 0, 0, 0, 0, 0, 0, 0, 3, 7, 32, 94].map((c) => c / 3072);
  const r = proposeStageBoundaries(12, { predictionDensity: pred, suppressionDensity: supp });
  assert.equal(r.boundaries[1].layer, 9);
  assert.equal(r.boundaries[2].layer, 11);
  // No stage-2 signal: the depth prior round(0.15·11) = 2.
  assert.equal(r.boundaries[0].layer, 2);
  assert.match(r.boundaries[0].evidence.join('\n'), /no usable signal/);
});

test('no signals at all: depth priors, said so for every boundary', () => {
  const r = proposeStageBoundaries(L, {});
  assert.deepEqual(r.boundaries.map((b) => b.layer), [Math.round(0.15 * 23), Math.round(0.5 * 23), Math.round(0.9 * 23)]);
  assert.deepEqual(r.signalsUsed, []);
  r.boundaries.forEach((b) => assert.match(b.evidence.join('\n'), /no usable signal/));
});

test('unusable signals are reported with a reason and do not vote', () => {
  const flat = layers(() => 1);
  const r = proposeStageBoundaries(L, { localAttention: flat, mlpOutputNorm: flat, logitLensKl: points((i) => i) });
  const text = r.boundaries.map((b) => b.evidence.join('\n')).join('\n');
  assert.match(text, /local attention: not used \(early peak 1 is not above the late level 1\)/);
  assert.match(text, /MLP output norm: not used \(no rise in the second half\)/);
  assert.match(text, /logit-lens KL: not used \(no decline after its maximum\)/);
  assert.deepEqual(r.signalsUsed, []);
});

test('without suppression densities, a late peak of prediction density marks stage 4', () => {
  const r = proposeStageBoundaries(L, { predictionDensity });
  assert.equal(r.boundaries[2].layer, 21); // peak at layer 20, declining after
  assert.match(r.boundaries[2].evidence.join('\n'), /peaks at layer 20/);
});

test('out-of-order candidates are pushed later to keep 1 <= b2 < b3 < b4 <= L-1', () => {
  // Stage 3 from a KL knee at block 20, stage 4 from suppression taking over at layer 13.
  const kl = points((i) => (i <= 20 ? 6 : 6 * (24 - i) / 4));
  const pred = layers((l) => (l < 12 ? 0 : 0.1));
  const supp = layers((l) => (l < 13 ? 0 : 0.2));
  const r = proposeStageBoundaries(L, { logitLensKl: kl, suppressionDensity: supp, predictionDensity: pred });
  const [b2, b3, b4] = r.boundaries.map((b) => b.layer);
  assert.ok(1 <= b2 && b2 < b3 && b3 < b4 && b4 <= L - 1, `${b2} ${b3} ${b4}`);
  assert.match(r.boundaries[2].evidence.join('\n'), /adjusted from layer/);
  // A tiny model still gets three distinct boundaries.
  const tiny = proposeStageBoundaries(4, { localAttention: [1, 0, 0, 0] });
  assert.deepEqual(tiny.boundaries.map((b) => b.layer), [1, 2, 3]);
});

test('bad arguments throw clear errors', () => {
  assert.throws(() => proposeStageBoundaries(3, {}), />= 4/);
  assert.throws(() => proposeStageBoundaries(L, { localAttention: [1, 2] }), /localAttention has 2 values, expected 24/);
  assert.throws(() => proposeStageBoundaries(L, { logitLensKl: layers(() => 1) }), /expected 25 \(L\+1 points/);
  assert.throws(() => proposeStageBoundaries(L, { mlpOutputNorm: layers((l) => (l === 3 ? NaN : 1)) }), /mlpOutputNorm\[3\] is not finite/);
});
