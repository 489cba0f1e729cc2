/**
 * Single-neuron and top-k ensemble probes (paper spec §5.3b, Figs. 9/12a): given K neuron activations
 * per example [n, K] and binary labels,
 * - one logistic probe per neuron (its activation alone);
 * - neurons ordered by their single probe's training accuracy (ties: the given order), then one probe on
 *   the first k of that order for k = 1..K.
 * Every probe is logistic.ts's L2 logistic regression on standardized features, its penalty
 * chosen from `grid` by a stratified validation split inside the training part, refit on the whole
 * training part, scored on the held-out part. Ordering by training accuracy keeps the held-out part out
 * of every choice (the paper orders by single-probe accuracy without saying on which split).
 */
import { accuracy, selectL2ByValidation } from './logistic.js';

export interface ProbeScore {
  train_accuracy: number;
  test_accuracy: number;
  l2: number;
}

export interface NeuronProbeResults {
  /** Per column of the input, in input order. */
  single: ProbeScore[];
  /** Columns by single-probe training accuracy, best first. */
  order: number[];
  /** k = 1..K: the probe on the first k columns of `order`. */
  ensemble: Array<ProbeScore & { k: number }>;
}

/** Columns `cols` of the rows `rows` of X [n, K]. */
export function takeColumns(X: Float32Array, K: number, rows: number[], cols: number[]): Float32Array {
  const out = new Float32Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => (out[i * cols.length + j] = X[r * K + c]!)));
  return out;
}

/** One probe on columns `cols`: trained on `train`, scored on `test`. */
export function fitColumnProbe(X: Float32Array, K: number, y: Uint8Array, split: { train: number[]; test: number[] }, cols: number[], grid: number[], seed = 0): ProbeScore {
  const d = cols.length;
  const Xtr = takeColumns(X, K, split.train, cols), Xte = takeColumns(X, K, split.test, cols);
  const ytr = Uint8Array.from(split.train, (i) => y[i]!), yte = Uint8Array.from(split.test, (i) => y[i]!);
  const sel = selectL2ByValidation(Xtr, split.train.length, d, ytr, { grid, seed, maxIter: 200 });
  return {
    train_accuracy: accuracy(sel.model, Xtr, split.train.length, d, ytr),
    test_accuracy: accuracy(sel.model, Xte, split.test.length, d, yte),
    l2: sel.l2,
  };
}

export function neuronProbes(X: Float32Array, n: number, K: number, y: Uint8Array, split: { train: number[]; test: number[] }, grid: number[], seed = 0): NeuronProbeResults {
  if (X.length !== n * K) throw new Error(`neuronProbes: X has ${X.length} values, expected ${n} x ${K}`);
  const single = Array.from({ length: K }, (_, c) => fitColumnProbe(X, K, y, split, [c], grid, seed));
  const order = single.map((_, c) => c).sort((a, b) => single[b]!.train_accuracy - single[a]!.train_accuracy || a - b);
  const ensemble = order.map((_, i) => ({ k: i + 1, ...fitColumnProbe(X, K, y, split, order.slice(0, i + 1), grid, seed) }));
  return { single, order, ensemble };
}
