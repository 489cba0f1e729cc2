import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunningStats } from '../../src/stats/running-stats.js';

const close = (actual: number, expected: number, tol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} != ${expected}`);

test('mean, sample std and sem of a small set match the textbook values', () => {
  // 2,4,4,4,5,5,7,9: mean 5, Σ(x-5)² = 32, sample variance 32/7.
  const s = new RunningStats().addMany([2, 4, 4, 4, 5, 5, 7, 9]);
  const json = s.toJSON();
  assert.equal(json.count, 8);
  close(json.mean!, 5);
  close(json.std!, Math.sqrt(32 / 7));
  close(json.sem!, Math.sqrt(32 / 7) / Math.sqrt(8));
});

test('large offset with a tiny spread keeps its precision (float64 Welford)', () => {
  // 1e9 + {0,1,2,...,9}: variance of 0..9 with divisor 9 is 55/6.
  const s = new RunningStats();
  for (let i = 0; i < 10; i++) s.add(1e9 + i);
  close(s.mean, 1e9 + 4.5);
  close(s.variance, 55 / 6, 1e-9);
});

test('empty and single-value accumulators give NaN where undefined, and serialize NaN as null', () => {
  const empty = new RunningStats();
  assert.ok(Number.isNaN(empty.mean) && Number.isNaN(empty.std) && Number.isNaN(empty.sem));
  assert.deepEqual(JSON.parse(JSON.stringify(empty)), { count: 0, mean: null, std: null, sem: null, m2: 0 });
  const one = new RunningStats().add(3);
  assert.equal(one.mean, 3);
  assert.ok(Number.isNaN(one.std));
  const back = RunningStats.fromJSON(JSON.parse(JSON.stringify(one)));
  assert.equal(back.mean, 3);
  assert.equal(back.count, 1);
});

test('merge of two shards equals one pass over all values', () => {
  const values = Array.from({ length: 37 }, (_, i) => Math.sin(i * 1.7) * 10 + i * 0.1);
  const whole = new RunningStats().addMany(values);
  const a = new RunningStats().addMany(values.slice(0, 11));
  const b = new RunningStats().addMany(values.slice(11));
  a.merge(b);
  assert.equal(a.count, whole.count);
  close(a.mean, whole.mean);
  close(a.std, whole.std, 1e-12);
  // Merging into or from an empty accumulator is the identity.
  const e = new RunningStats().merge(whole);
  close(e.std, whole.std);
  whole.merge(new RunningStats());
  close(whole.std, e.std);
});

test('JSON round trip resumes exactly, and state without m2 is recovered from std', () => {
  const s = new RunningStats().addMany([1.5, -2, 3.25, 8, 0]);
  const resumed = RunningStats.fromJSON(JSON.parse(JSON.stringify(s))).add(4);
  const direct = new RunningStats().addMany([1.5, -2, 3.25, 8, 0, 4]);
  close(resumed.mean, direct.mean);
  close(resumed.std, direct.std);
  const { m2: _m2, ...withoutM2 } = s.toJSON();
  close(RunningStats.fromJSON(withoutM2).std, s.std, 1e-12);
});

test('bad input throws with a clear message', () => {
  assert.throws(() => new RunningStats().add(NaN), /finite/);
  const s = new RunningStats().add(1);
  assert.throws(() => s.addMany([2, Infinity]), /finite/);
  assert.equal(s.count, 1, 'a rejected batch leaves the accumulator unchanged');
  assert.throws(() => RunningStats.fromJSON({ count: -1, mean: 0, std: 0, sem: 0 }), /count/);
  assert.throws(() => RunningStats.fromJSON({ count: 2, mean: null, std: 0, sem: 0 }), /mean/);
});
