import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, JsBackend, type Backend } from '../../src/backend/index.js';
import { SeededRandom } from '../../src/model/random.js';
import { BaselineAccumulator, BaselineBatch, DocPooledStats, PlanAccumulator } from '../../src/sweep/metrics.js';

/** Brute force in float64: softmax, KL, entropy, argmax per row. */
function rowStats(z: Float32Array, V: number, r: number) {
  const row = Array.from(z.subarray(r * V, r * V + V));
  const mx = Math.max(...row);
  const e = row.map((x) => Math.exp(x - mx));
  const s = e.reduce((a, b) => a + b, 0);
  const p = e.map((x) => x / s);
  return { p, logp: p.map(Math.log), arg: row.indexOf(mx), entBits: -p.reduce((a, x) => a + x * Math.log2(x), 0) };
}

function meanStdSem(values: { doc: number; x: number }[]) {
  const xs = values.map((v) => v.x);
  const n = xs.length, mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const docs = [...new Set(values.map((v) => v.doc))];
  const dm = docs.map((d) => { const ys = values.filter((v) => v.doc === d).map((v) => v.x); return ys.reduce((a, b) => a + b, 0) / ys.length; });
  const m = dm.reduce((a, b) => a + b, 0) / dm.length;
  const sem = Math.sqrt(dm.reduce((a, x) => a + (x - m) ** 2, 0) / (dm.length - 1)) / Math.sqrt(dm.length);
  return { mean, std, sem, count: n, docs: docs.length };
}

function close(a: number, b: number, tol: number, what: string) {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

for (const [name, backend] of [['native', getBackend()], ['js', new JsBackend()]] as [string, Backend][]) {
  test(`metrics (${name}): match a brute-force float64 computation on a tiny case`, () => {
    const B = 3, T = 5, V = 7, rows = B * T;
    const rng = new SeededRandom(11);
    const ids = Int32Array.from({ length: rows }, (_, i) => (i % T === 0 ? 0 : Math.floor(rng.uniform() * V)));
    const zp = Float32Array.from({ length: rows * V }, () => (rng.uniform() - 0.5) * 6);
    const zq = Float32Array.from({ length: rows * V }, (_, i) => zp[i] + (rng.uniform() - 0.5) * 3);
    const windowDoc = [0, 0, 1];
    const layout = { ids, batch: B, seq: T, windowDoc };
    const base = new BaselineBatch(backend, zp, layout, V);
    const acc = new PlanAccumulator();
    acc.addRows(base, zq.subarray(0, 4 * V), 0, 4); // two chunks, split mid-window
    acc.addRows(base, zq.subarray(4 * V), 4, rows - 4);
    const bacc = new BaselineAccumulator();
    bacc.addBatch(base);

    const want: Record<string, { doc: number; x: number }[]> = { kl: [], agreement: [], accuracy: [], loss: [], entropy: [], bLoss: [], bAcc: [], bEnt: [] };
    for (let r = 0; r < rows; r++) {
      const t = r % T, doc = windowDoc[Math.floor(r / T)];
      const P = rowStats(zp, V, r), Q = rowStats(zq, V, r);
      if (t < T - 1) {
        const y = ids[r + 1];
        want.loss.push({ doc, x: -Q.logp[y] });
        want.accuracy.push({ doc, x: Q.arg === y ? 1 : 0 });
        want.bLoss.push({ doc, x: -P.logp[y] });
        want.bAcc.push({ doc, x: P.arg === y ? 1 : 0 });
      }
      if (t >= 1) {
        want.kl.push({ doc, x: P.p.reduce((a, p, v) => a + p * (P.logp[v] - Q.logp[v]), 0) });
        want.agreement.push({ doc, x: P.arg === Q.arg ? 1 : 0 });
        want.entropy.push({ doc, x: Q.entBits });
        want.bEnt.push({ doc, x: P.entBits });
      }
    }
    const got = {
      kl: acc.kl, agreement: acc.agreement, accuracy: acc.accuracy, loss: acc.loss, entropy: acc.entropy,
      bLoss: bacc.loss, bAcc: bacc.accuracy, bEnt: bacc.entropy,
    };
    for (const [k, stats] of Object.entries(got)) {
      const s = stats.summary(), w = meanStdSem(want[k]);
      assert.equal(s.count, w.count, k);
      assert.equal(s.count, B * (T - 1), `${k}: every non-BOS position / every predicted token`);
      assert.equal(s.docs, 2);
      close(s.mean, w.mean, 1e-6, `${k} mean`);
      close(s.std, w.std, 1e-6, `${k} std`);
      close(s.sem, w.sem, 1e-6, `${k} sem`);
    }
    assert.ok(want.kl.every((v) => v.x > 0));
  });
}

test('metrics: identical logits give KL exactly 0 and agreement 1', () => {
  const backend = getBackend();
  const rng = new SeededRandom(5);
  const V = 50, T = 6;
  const ids = Int32Array.from({ length: T }, () => Math.floor(rng.uniform() * V));
  const z = Float32Array.from({ length: T * V }, () => rng.uniform() * 10);
  const base = new BaselineBatch(backend, z, { ids, batch: 1, seq: T, windowDoc: [0] }, V);
  const acc = new PlanAccumulator();
  acc.addRows(base, z, 0, T);
  assert.equal(acc.kl.summary().mean, 0);
  assert.equal(acc.agreement.summary().mean, 1);
});

test('metrics: DocPooledStats survives a JSON round trip exactly and keeps accumulating identically', () => {
  const rng = new SeededRandom(3);
  const a = new DocPooledStats(), b = new DocPooledStats();
  const values = Array.from({ length: 200 }, (_, i) => ({ doc: i % 7 === 0 ? 9 : i % 3, x: rng.uniform() * 1e3 + 1e6 }));
  values.slice(0, 120).forEach((v) => a.add(v.doc, v.x));
  values.forEach((v) => b.add(v.doc, v.x));
  const restored = DocPooledStats.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
  values.slice(120).forEach((v) => restored.add(v.doc, v.x));
  assert.deepEqual(restored.toJSON(), b.toJSON());
  assert.deepEqual(restored.summary(), b.summary());
  assert.equal(b.summary().docs, 4); // docs 0, 1, 2, 9 (3..8 have no values)
});
