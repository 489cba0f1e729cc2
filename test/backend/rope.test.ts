import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, JsBackend } from '../../src/backend/index.js';
import { ropeInverseFrequencies, ropeTables } from '../../src/model/rope.js';
import { SeededRandom } from '../../src/model/random.js';

const native = getBackend();
const js = new JsBackend();
const rng = new SeededRandom(3);

// A fused q|k|v layout: 4 query heads and 2 kv heads of 16, rows padded by 3 columns.
const B = 2, T = 9, H = 4, Hkv = 2, dh = 16, ld = (H + 2 * Hkv) * dh + 3, rows = B * T;

for (const dims of [16, 8]) // full and partial rotary (Phi rotates only part of each head)
  for (const withPositions of [false, true])
    test(`native RoPE equals the TypeScript reference bit for bit (rotary dims ${dims}, ${withPositions ? 'explicit positions' : 'row positions'})`, () => {
      const rope = { dims, theta: 10000 };
      const tables = ropeTables(rope, 32);
      const positions = withPositions ? Int32Array.from({ length: rows }, (_, r) => (r * 7) % 32) : undefined;
      const x = rng.fillNormal(new Float32Array(rows * ld), 1);
      const a = x.slice(), b = x.slice();
      for (const [col, heads] of [[0, H], [H * dh, Hkv]]) {
        native.rope(a, rows, T, ld, col, heads, dh, tables, positions);
        js.rope(b, rows, T, ld, col, heads, dh, tables, positions);
      }
      assert.deepEqual(a, b);
      // And it is the rotation: against float64 cos/sin of position * inverse frequency, untouched columns
      // (v, padding, dimensions past the rotary ones) unchanged.
      const inv = ropeInverseFrequencies(rope), half = dims / 2;
      for (let r = 0; r < rows; r++) {
        const p = positions ? positions[r] : r % T;
        for (let c = 0; c < ld; c++) {
          const head = Math.floor(c / dh), j = c % dh;
          const rotated = head < H + Hkv && j < dims;
          if (!rotated) { assert.equal(a[r * ld + c], x[r * ld + c]); continue; }
          const i = j % half, angle = p * inv[i], o = r * ld + head * dh;
          const x1 = x[o + i], x2 = x[o + i + half];
          const want = j < half ? x1 * Math.cos(angle) - x2 * Math.sin(angle) : x2 * Math.cos(angle) + x1 * Math.sin(angle);
          assert.ok(Math.abs(a[r * ld + c] - want) < 1e-5, `row ${r} col ${c}: ${a[r * ld + c]} vs ${want}`);
        }
      }
    });

test('native RoPE refuses a position past its tables instead of reading outside them', () => {
  const tables = ropeTables({ dims: 16, theta: 10000 }, 8);
  const x = new Float32Array(2 * 16);
  assert.throws(() => native.rope(x, 2, 2, 16, 0, 1, 16, tables, Int32Array.from([0, 8])), /too short/);
  assert.throws(() => native.rope(x, 2, 2, 16, 0, 1, 16, tables, Int32Array.from([0, -1])), /negative position/);
});
