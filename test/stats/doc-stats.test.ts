import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocStats } from '../../src/stats/doc-stats.js';
import { band, spread } from '../../src/stats/stat.js';
import { mulberry32 } from '../../src/analyses/math/prng.js';

const close = (actual: number, expected: number, tol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${actual} != ${expected}`);

test('mean pools tokens, std is over tokens, sem is across per-document means', () => {
  // doc 0: [1, 3] (mean 2); doc 1: [4, 4, 4, 8] (mean 5); doc 2: [11] (mean 11).
  const g = new DocStats().addMany(0, [1, 3]).addMany(1, [4, 4, 4]).add(1, 8).add(2, 11);
  const s = g.stat();
  assert.equal(s.n, 7);
  assert.equal(s.docs, 3);
  const xs = [1, 3, 4, 4, 4, 8, 11];
  const m = xs.reduce((a, b) => a + b) / 7;
  close(s.mean!, m);
  close(s.std!, Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / 6));
  // Doc means 2, 5, 11: mean 6, sum of squares 42, sample variance 21.
  close(s.sem!, Math.sqrt(21) / Math.sqrt(3));
});

test('empty and one-value accumulators give null where a statistic is undefined', () => {
  assert.deepEqual(new DocStats().stat(), { mean: null, std: null, sem: null, n: 0, docs: 0 });
  assert.deepEqual(new DocStats().add(4, 2.5).stat(), { mean: 2.5, std: null, sem: null, n: 1, docs: 1 });
});

test('the order documents arrive in does not change sem', () => {
  const a = new DocStats().addMany(0, [1, 2]).addMany(5, [9]).addMany(2, [4, 4.5]);
  const b = new DocStats().addMany(2, [4, 4.5]).addMany(0, [1, 2]).addMany(5, [9]);
  assert.equal(a.sem, b.sem);
});

/** A random accumulator over documents [first, first + docs). */
function randomStats(seed: number, first: number, docs: number): DocStats {
  const r = mulberry32(seed);
  const s = new DocStats();
  for (let d = first; d < first + docs; d++) {
    const n = 1 + Math.floor(r() * 20);
    for (let i = 0; i < n; i++) s.add(d, 1000 + r() * 3 - (d % 3));
  }
  return s;
}

test('merge of shards equals one pass over all values (1e-12 relative)', () => {
  const r = mulberry32(7);
  const values: Array<[number, number]> = [];
  for (let d = 0; d < 40; d++) for (let i = 0; i < 1 + (d % 9); i++) values.push([d, r() * 10 - 5]);
  const all = new DocStats();
  for (const [d, x] of values) all.add(d, x);
  for (const shard of [1, 7, 40]) {
    const merged = new DocStats();
    for (let d0 = 0; d0 < 40; d0 += shard) {
      const part = new DocStats();
      for (const [d, x] of values) if (d >= d0 && d < d0 + shard) part.add(d, x);
      merged.merge(part);
    }
    const a = merged.stat(), b = all.stat();
    assert.equal(a.n, b.n);
    assert.equal(a.docs, b.docs);
    close(a.mean!, b.mean!);
    close(a.std!, b.std!);
    close(a.sem!, b.sem!);
  }
});

test('merge is associative on random states (1e-12 relative), and a document split across states combines', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const a = randomStats(seed, 0, 5), b = randomStats(seed + 100, 3, 6), c = randomStats(seed + 200, 20, 4);
    const left = DocStats.merged(DocStats.merged(a, b), c).stat();
    const right = DocStats.merged(a, DocStats.merged(b, c)).stat();
    assert.equal(left.n, right.n);
    assert.equal(left.docs, 5 + 6 + 4 - 2);
    assert.equal(left.docs, right.docs);
    close(left.mean!, right.mean!);
    close(left.std!, right.std!);
    close(left.sem!, right.sem!);
  }
});

test('JSON and binary round trips are exact, and continuing after them equals never stopping', () => {
  const g = randomStats(3, 0, 12);
  for (const back of [DocStats.fromJSON(JSON.parse(JSON.stringify(g.toJSON()))), DocStats.fromBytes(g.toBytes())]) {
    assert.deepEqual(back.toJSON(), g.toJSON());
    back.add(4, 17).add(30, -2);
  }
  const direct = randomStats(3, 0, 12).add(4, 17).add(30, -2);
  const resumed = DocStats.fromBytes(randomStats(3, 0, 12).toBytes()).add(4, 17).add(30, -2);
  assert.deepEqual(resumed.stat(), direct.stat());
  assert.ok(g.toBytes().byteLength <= 8 * (4 + 3 * 12));
});

test('rejected values leave no trace, and corrupt state is refused', () => {
  const g = new DocStats();
  assert.throws(() => g.addMany(0, [1, NaN]), /finite/);
  assert.equal(g.count, 0);
  assert.equal(g.docCount, 0);
  const json = new DocStats().add(0, 1).toJSON();
  json.n = 5;
  assert.throws(() => DocStats.fromJSON(json), /token total/);
  assert.throws(() => DocStats.fromBytes(new Uint8Array(12)), /length/);
});

test('band: ±sigma around the mean, clamped; unknown spread collapses; unknown mean gives none', () => {
  const s = { mean: 0.5, sem: 0.1, docs: 9 };
  assert.deepEqual(band(s, 'sem'), { lo: 0.4, hi: 0.6, err: 0.1 });
  // std across documents = sem x sqrt(docs) = 0.3
  const w = band(s, 'std', [0, 0.7])!;
  assert.ok(Math.abs(w.lo - 0.2) < 1e-12 && w.hi === 0.7 && Math.abs(w.err - 0.3) < 1e-12);
  assert.deepEqual(band({ mean: 2, sem: null, docs: 1 }, 'sem'), { lo: 2, hi: 2, err: 0 });
  assert.equal(band({ mean: null, sem: 1, docs: 4 }, 'sem'), undefined);
  assert.deepEqual(band({ mean: 1, sem: NaN, docs: 3 }, 'std'), { lo: 1, hi: 1, err: 0 });
});

test('band widths from a hand-computed set: std across documents vs sem', () => {
  // Documents: [1, 3] (mean 2), [4] (mean 4), [6, 6, 9] (mean 7). Document means 2, 4, 7: mean 13/3,
  // squared deviations 49/9 + 1/9 + 64/9 = 114/9, sample variance 57/9 = 19/3, so std = sqrt(19/3)
  // = 2.5166 and sem = sqrt(19/3)/sqrt(3) = sqrt(19/9) = 1.4530. The token-pooled mean is 29/6.
  const d = new DocStats().addMany(0, [1, 3]).addMany(1, [4]).addMany(2, [6, 6, 9]);
  const st = d.stat();
  const std = band(st, 'std')!, sem = band(st, 'sem')!;
  assert.ok(Math.abs(std.err - Math.sqrt(19 / 3)) < 1e-12, `std ${std.err}`);
  assert.ok(Math.abs(sem.err - Math.sqrt(19 / 9)) < 1e-12, `sem ${sem.err}`);
  assert.ok(Math.abs(std.hi - std.lo - 2 * 2.516611478) < 1e-8);
  assert.ok(Math.abs(sem.hi - sem.lo - 2 * 1.452966315) < 1e-8);
  assert.ok(Math.abs(std.lo - (29 / 6 - Math.sqrt(19 / 3))) < 1e-12);
  assert.ok(Math.abs(spread(st, 'std') / spread(st, 'sem') - Math.sqrt(3)) < 1e-12);
});
