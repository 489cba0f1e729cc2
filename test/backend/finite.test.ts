import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, JsBackend } from '../../src/backend/index.js';
import { SeededRandom } from '../../src/model/random.js';

const native = getBackend();
const js = new JsBackend();

test('firstNonFinite: native agrees with the reference on NaN, ±Inf, extremes and block boundaries', () => {
  const rng = new SeededRandom(7);
  // Finite extremes that must not count: largest float, smallest subnormal, -0.
  const extremes = [3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -0];
  for (const n of [0, 1, 15, 16, 17, 16383, 16384, 16385, 40000]) {
    const x = rng.fillNormal(new Float32Array(n), 1e3);
    for (let i = 0; i < Math.min(n, extremes.length); i++) x[(i * 7919) % n] = extremes[i];
    assert.equal(native.firstNonFinite(x), -1, `all finite, n=${n}`);
    assert.equal(js.firstNonFinite(x), -1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      if (n === 0) continue;
      for (const at of [0, n - 1, Math.floor(n / 2), Math.max(0, n - 16385)]) {
        const y = x.slice();
        y[at] = bad;
        if (at + 3 < n) y[at + 3] = NaN; // a later hit must not win
        assert.equal(native.firstNonFinite(y), at, `n=${n} ${bad} at ${at}`);
        assert.equal(js.firstNonFinite(y), at);
      }
    }
  }
  // A NaN with payload bits and a subarray view (offset into a larger buffer).
  const big = new Float32Array(100);
  new Uint32Array(big.buffer)[60] = 0xffc00123;
  assert.equal(native.firstNonFinite(big.subarray(50)), 10);
  assert.equal(js.firstNonFinite(big.subarray(50)), 10);
});

test('firstNonFinite on arrays split among the kernel threads: the first hit wins, whichever thread finds it', () => {
  const n = 3 * 2 ** 19 + 5; // several 256 Ki ranges
  const x = new SeededRandom(9).fillNormal(new Float32Array(n), 1);
  assert.equal(native.firstNonFinite(x), -1);
  for (const [first, later] of [[n - 1, -1], [2 ** 19 + 3, n - 2], [7, n - 7], [2 ** 18 - 1, 2 ** 18]]) {
    const y = x.slice();
    y[first] = NaN;
    if (later >= 0) y[later] = -Infinity;
    assert.equal(native.firstNonFinite(y), first, `first ${first}, later ${later}`);
    assert.equal(js.firstNonFinite(y), first);
  }
});
