import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupedStats, RunningStats } from '../../../src/analyses/math/running-stats.js';

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

test('grouped: mean pools tokens, sem is across per-document means', () => {
  // doc a: [1, 3] (mean 2); doc b: [4, 4, 4, 8] (mean 5); doc c: [11] (mean 11).
  const g = new GroupedStats();
  g.addDocMany('a', [1, 3]).addDocMany('b', [4, 4, 4]).addDoc('b', 8).addDoc('c', 11);
  const s = g.summary();
  assert.equal(s.count, 7);
  assert.equal(s.docs, 3);
  close(s.mean, (1 + 3 + 4 + 4 + 4 + 8 + 11) / 7);
  // Doc means 2, 5, 11: mean 6, Σ(m-6)² = 16 + 1 + 25 = 42, sample var 21.
  close(s.meanOfDocMeans, 6);
  close(s.docMeanStd, Math.sqrt(21));
  close(s.sem, Math.sqrt(21) / Math.sqrt(3));
  close(g.sem, s.sem);
});

test('grouped: numeric and string ids are one document; merge combines shared documents', () => {
  const a = new GroupedStats().addDoc(1, 2).addDoc('2', 10);
  const b = new GroupedStats().addDoc('1', 4).addDoc(3, 6);
  a.merge(b);
  const s = a.summary();
  assert.equal(s.docs, 3);
  assert.equal(s.count, 4);
  // Doc means: 1 -> 3, 2 -> 10, 3 -> 6.
  close(s.meanOfDocMeans, 19 / 3);
  close(s.mean, 22 / 4);
});

test('grouped: JSON round trip then more data equals adding everything at once', () => {
  const g = new GroupedStats().addDocMany('x', [1, 2, 3]).addDocMany('y', [7]);
  const resumed = GroupedStats.fromJSON(JSON.parse(JSON.stringify(g))).addDoc('y', 9).addDoc('z', 0);
  const direct = new GroupedStats().addDocMany('x', [1, 2, 3]).addDocMany('y', [7, 9]).addDoc('z', 0);
  const r = resumed.summary();
  const d = direct.summary();
  assert.equal(r.count, d.count);
  assert.equal(r.docs, d.docs);
  close(r.mean, d.mean);
  close(r.sem, d.sem);
  close(r.std, d.std);
});

test('grouped: rejected values leave no trace and corrupt JSON is refused', () => {
  const g = new GroupedStats();
  assert.throws(() => g.addDocMany('a', [1, NaN]), /finite/);
  assert.equal(g.docCount, 0);
  assert.equal(g.count, 0);
  const json = new GroupedStats().addDoc('a', 1).toJSON();
  json.tokens.count = 5;
  assert.throws(() => GroupedStats.fromJSON(json), /token total/);
});
