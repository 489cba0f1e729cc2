/**
 * lm-eval's metrics on hand-made cases: acc / acc_norm (ties, code-point lengths), LAMBADA acc and
 * perplexity, mean standard errors, and the perplexity bootstrap, whose reference numbers come from
 * CPython 3.11 running lm-eval's bootstrap code (random.Random(i).choices, 100 x 1000 replicates).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PythonRandom } from '../../src/evaluate/python-random.js';
import { aggregate, argmaxFirst, meanStderr, perplexity, perplexityStderr, perplexityStderrs, scoreMultipleChoice } from '../../src/evaluate/scoring.js';

test('PythonRandom reproduces CPython random.Random(seed).random()', () => {
  const cases: Array<[number, number[]]> = [
    [0, [0.8444218515250481, 0.7579544029403025, 0.420571580830845]],
    [1, [0.13436424411240122, 0.8474337369372327, 0.763774618976614]],
    [42, [0.6394267984578837, 0.025010755222666936, 0.27502931836911926]],
    [2 ** 32 + 5, [0.15727238718789782, 0.2824866316461999, 0.6044540318498407]],
  ];
  for (const [seed, xs] of cases) {
    const r = new PythonRandom(seed);
    assert.deepEqual(xs.map(() => r.random()), xs, `seed ${seed}`);
  }
  // fillChoices (the bootstrap's fast path) draws exactly floor(random() * n), across state regenerations.
  const a = new PythonRandom(7), b = new PythonRandom(7);
  const idx = new Int32Array(1500);
  a.fillChoices(idx, 5153);
  assert.deepEqual([...idx], Array.from({ length: 1500 }, () => Math.floor(b.random() * 5153)));
  assert.equal(a.random(), b.random(), 'the state continues in step');
});

test('multiple choice: acc by summed ll, acc_norm by ll / code points, ties to the first choice', () => {
  // ll -4 over 2 chars (-2/char) vs -5 over 10 chars (-0.5/char): acc picks 0, acc_norm picks 1.
  assert.deepEqual(scoreMultipleChoice([-4, -5], ['ab', 'abcdefghij'], 1), { pred: 0, predNorm: 1, acc: 0, accNorm: 1 });
  assert.deepEqual(scoreMultipleChoice([-3, -3, -3], ['a', 'b', 'c'], 0), { pred: 0, predNorm: 0, acc: 1, accNorm: 1 });
  // "15°C." is 5 code points (6 bytes): -5/5 = -1 beats -6.5/6 only when counted in code points.
  assert.equal(scoreMultipleChoice([-5, -6.5], ['15\u00b0C.', 'abcdef'], 0).predNorm, 0);
  assert.equal(argmaxFirst([1, 3, 3, 2]), 1);
});

test('aggregation: mean, sample-std standard error (ddof 1), exp(-mean ll) perplexity; null where not applicable', () => {
  const mc = aggregate('multiple_choice', { acc: [1, 0, 1, 1], accNorm: [1, 1, 0, 0] });
  assert.equal(mc.n, 4);
  assert.equal(mc.acc, 0.75);
  assert.ok(Math.abs(mc.acc_stderr! - Math.sqrt((0.75 * 0.25) / 3)) < 1e-15, 'sqrt(p(1-p)/(n-1)) for 0/1 values');
  assert.equal(mc.acc_norm, 0.5);
  assert.ok(Math.abs(mc.acc_norm_stderr! - Math.sqrt(1 / 3) / 2) < 1e-15);
  assert.equal(mc.perplexity, null);
  assert.equal(mc.perplexity_stderr, null);
  const ll = [-1.5, -0.25, -3.0, -2.0, -0.75, -4.5, -1.0];
  const lam = aggregate('loglikelihood', { acc: [1, 0, 0, 1, 0, 0, 0], ll }, 123);
  assert.ok(Math.abs(lam.acc! - 2 / 7) < 1e-15);
  assert.ok(Math.abs(lam.perplexity! - 6.405409432177272) < 1e-12);
  assert.equal(lam.perplexity_stderr, 123, 'a precomputed bootstrap stderr is used as given');
  assert.equal(lam.acc_norm, null);
  assert.equal(meanStderr([1]), null, 'n <= 1: lm-eval writes N/A');
  assert.equal(perplexity([-Math.log(2)]), 2);
});

test("perplexity stderr equals lm-eval's bootstrap as CPython computes it", () => {
  const ll = [-1.5, -0.25, -3.0, -2.0, -0.75, -4.5, -1.0];
  const se = perplexityStderr(ll)!;
  assert.ok(Math.abs(se - 4.339232530389344) < 1e-9, `got ${se}`);
  // One draw sequence serves several plans: each list gets the stderr it would get alone.
  const other = ll.map((x) => x * 0.5);
  const both = perplexityStderrs([ll, other], 5000);
  assert.equal(both[0], perplexityStderr(ll, 5000));
  assert.equal(both[1], perplexityStderr(other, 5000));
  assert.equal(perplexityStderr([-1]), null);
});
