/**
 * lm-eval's per-document metrics and their aggregation (../shared/lm-eval-tasks.md §2, §5.2, §7):
 * - a request's (ll, is_greedy) from log-probabilities at its scored positions;
 * - multiple choice: acc = [argmax ll = gold], acc_norm = [argmax ll / len(choice) = gold] (ties to the
 *   first index, len in code points, the target delimiter excluded);
 * - loglikelihood: acc = is_greedy (every target token the argmax), perplexity item = ll;
 * - aggregation: mean; perplexity = exp(-mean(ll)); stderr of a mean = sample std (ddof 1) / sqrt(n);
 *   stderr of perplexity = lm-eval's bootstrap (100 chunks x 1000 resamples, chunk i seeded with i).
 */
import { PythonRandom } from './python-random.js';
import { pyLen } from './tasks/python-text.js';

/** numpy.argmax: the first index of the largest value. */
export function argmaxFirst(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

export interface ChoiceOutcome {
  pred: number;
  predNorm: number;
  acc: number;
  accNorm: number;
}

export function scoreMultipleChoice(lls: readonly number[], choices: readonly string[], gold: number): ChoiceOutcome {
  const pred = argmaxFirst(lls);
  const predNorm = argmaxFirst(lls.map((ll, i) => ll / pyLen(choices[i])));
  return { pred, predNorm, acc: pred === gold ? 1 : 0, accNorm: predNorm === gold ? 1 : 0 };
}

/** Python's sum/len mean (sequential double additions). */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** lm-eval's sample_stddev: sqrt(sum((x - mean)^2) / (n - 1)). */
export function sampleStddev(xs: ArrayLike<number>): number {
  const mu = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - mu) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** mean_stderr: sample std / sqrt(n); null ("N/A" in lm-eval) when n <= 1. */
export function meanStderr(xs: ArrayLike<number>): number | null {
  return xs.length <= 1 ? null : sampleStddev(xs) / Math.sqrt(xs.length);
}

/** The perplexity aggregation: exp(-mean(ll)). */
export function perplexity(lls: ArrayLike<number>): number {
  return Math.exp(-mean(lls));
}

/**
 * lm-eval's bootstrap_stderr(perplexity, items, iters): chunk i (0-based, iters/1000 chunks of 1000) uses
 * random.Random(i); each replicate is perplexity(rnd.choices(items, k=n)), where choices draws
 * items[floor(random() * n)]; the result is the sample std of all replicates. null when n <= 1.
 * The draws depend only on n, so several item lists of equal length (one per plan) share them.
 */
export function perplexityStderrs(lists: ReadonlyArray<ArrayLike<number>>, iters = 100_000): Array<number | null> {
  if (lists.length === 0) return [];
  const n = lists[0].length;
  if (lists.some((l) => l.length !== n)) throw new Error('perplexityStderrs: lists differ in length');
  if (n <= 1) return lists.map(() => null);
  const chunk = Math.min(1000, iters), chunks = Math.floor(iters / chunk);
  const reps = lists.map(() => new Float64Array(chunks * chunk));
  const values = lists.map((l) => Float64Array.from(l));
  const idx = new Int32Array(n);
  let r = 0;
  for (let i = 0; i < chunks; i++) {
    const rnd = new PythonRandom(i);
    for (let k = 0; k < chunk; k++, r++) {
      rnd.fillChoices(idx, n);
      for (let p = 0; p < values.length; p++) {
        const l = values[p];
        let s = 0;
        for (let j = 0; j < n; j++) s += l[idx[j]];
        reps[p][r] = Math.exp(-(s / n));
      }
    }
  }
  return reps.map((x) => sampleStddev(x));
}

export function perplexityStderr(lls: ArrayLike<number>, iters = 100_000): number | null {
  return perplexityStderrs([lls], iters)[0];
}

export interface TaskMetrics {
  n: number;
  acc: number | null;
  acc_stderr: number | null;
  acc_norm: number | null;
  acc_norm_stderr: number | null;
  perplexity: number | null;
  perplexity_stderr: number | null;
}

/**
 * Metrics of one task under one plan from per-document values in document order. The perplexity stderr
 * is passed in (perplexityStderrs computes it for all plans at once); omitted, it is computed here.
 */
export function aggregate(kind: 'multiple_choice' | 'loglikelihood', docs: { acc: number[]; accNorm?: number[]; ll?: number[] }, pplStderr?: number | null): TaskMetrics {
  const n = docs.acc.length;
  const acc = n ? mean(docs.acc) : null;
  const base: TaskMetrics = { n, acc, acc_stderr: meanStderr(docs.acc), acc_norm: null, acc_norm_stderr: null, perplexity: null, perplexity_stderr: null };
  if (kind === 'multiple_choice') {
    base.acc_norm = n ? mean(docs.accNorm!) : null;
    base.acc_norm_stderr = meanStderr(docs.accNorm!);
  } else {
    base.perplexity = n ? perplexity(docs.ll!) : null;
    base.perplexity_stderr = pplStderr !== undefined ? pplStderr : perplexityStderr(docs.ll!);
  }
  return base;
}
