import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsBackend, type Backend, type WeightData } from '../../src/backend/index.js';
import { NativeBackend } from '../../src/backend/native-backend.js';
import { requireNativeAddon } from '../../src/backend/addon.js';
import { chooseF32Kernel } from '../../src/backend/f32-kernel.js';
import { cpuHasBf16 } from '../../src/backend/cpu.js';
import { bf16ToF32, f32ToBf16 } from '../../src/load/dtype.js';
import { SeededRandom } from '../../src/model/random.js';

const js = new JsBackend();
const native = NativeBackend.load();
const viaF32 = NativeBackend.load({ bf16: 'via-f32' });
const rng = new SeededRandom(7);
const randn = (n: number, std = 1) => rng.fillNormal(new Float32Array(n), std);

/** max |a - b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return m / s;
}

const bits = (w: Float32Array) => { const b = new Uint16Array(w.length); f32ToBf16(w, b); return b; };
const cases: Array<{ rows: number; inDim: number; outDim: number; layout: 'out_in' | 'in_out'; asBits: boolean }> = [];
for (const layout of ['out_in', 'in_out'] as const)
  for (const asBits of [false, true])
    for (const [rows, inDim, outDim] of [[1, 37, 53], [67, 64, 96], [130, 200, 31]]) cases.push({ rows, inDim, outDim, layout, asBits });

function run(be: Backend, c: (typeof cases)[number], w: WeightData, x: Float32Array): Float32Array {
  const pw = be.prepareWeight({ data: w, layout: c.layout, inDim: c.inDim, outDim: c.outDim }, 'bf16');
  const out = new Float32Array(c.rows * c.outDim);
  be.matmul(x, pw, c.rows, out);
  return out;
}

test('the native backend reports its bf16 path and the CPU decides it', () => {
  const i = native.info();
  assert.equal(i.bf16Native, cpuHasBf16() && /^avx512_core_(bf16|amx)/.test(i.onednn!.isa));
  assert.match(i.kernels.bf16, i.bf16Native ? /^onednn:/ : /via f32/);
  assert.equal(viaF32.info().bf16Native, false);
  for (const lib of ['openblas', 'onednn_openmp', 'layerlab_kernels']) assert.ok(i.threadsByLibrary[lib] >= 1, lib);
});

test('bf16 matmul (oneDNN packed, or via f32) matches the TypeScript bf16 reference on both layouts, f32 or bf16 input, odd sizes', () => {
  for (const c of cases) {
    const w32 = randn(c.inDim * c.outDim, 0.1), x = randn(c.rows * c.inDim);
    const w = c.asBits ? bits(w32) : w32;
    const want = run(js, c, w, x);
    // The reference rounds activations to bf16 as the bf16 kernels do: only the summation order differs.
    const e = relErr(run(native, c, w, x), want);
    assert.ok(e < (native.info().bf16Native ? 1e-5 : 6e-3), `${JSON.stringify(c)}: native ${e}`);
    // Through f32: bf16 weights, activations unrounded: compare with float64 x·W on the decoded weights.
    const wDecoded = new Float32Array(w32.length);
    bf16ToF32(bits(w32), wDecoded);
    const exact = new Float32Array(c.rows * c.outDim);
    js.matmul(x, js.prepareWeight({ data: wDecoded, layout: c.layout, inDim: c.inDim, outDim: c.outDim }, 'f32'), c.rows, exact);
    const e2 = relErr(run(viaF32, c, w, x), exact);
    assert.ok(e2 < 1e-5, `${JSON.stringify(c)}: via-f32 ${e2}`);
    // Rounding the activations is what separates the two; it is bf16-sized, not zero.
    const gap = relErr(want, exact);
    assert.ok(gap > 1e-5 && gap < 2e-2, `${JSON.stringify(c)}: activation rounding effect ${gap}`);
  }
});

test('a packed bf16 weight unpacks to the round-to-nearest-even bf16 values of its input, in its own layout', () => {
  const w = randn(45 * 29, 0.3);
  // Ties, specials and small values must round the way the TypeScript reference does. (f32 subnormals are
  // left out: oneDNN's reorder flushes them to zero, a difference below 1e-38.)
  w.set([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 0, -0, Infinity, -Infinity, 1e-30, 3.4e38]);
  for (const be of [native, viaF32])
    for (const layout of ['out_in', 'in_out'] as const) {
      const pw = be.prepareWeight({ data: w, layout, inDim: 45, outDim: 29 }, 'bf16');
      assert.deepEqual(Array.from(be.weightValues(pw) as Uint16Array), Array.from(bits(w)), `${be.info().kernels.bf16} ${layout}`);
    }
  assert.deepEqual(Array.from(bits(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8]))), [0x3f80, 0x3f82]);
});

test('f32 weights are used as given (no copy) and bf16 bits given for f32 are decoded exactly', () => {
  const w = randn(12 * 8);
  const pw = native.prepareWeight({ data: w, layout: 'out_in', inDim: 12, outDim: 8 }, 'f32');
  assert.equal(native.weightValues(pw), w);
  const b = bits(w);
  const decoded = native.weightValues(native.prepareWeight({ data: b, layout: 'out_in', inDim: 12, outDim: 8 }, 'f32')) as Float32Array;
  const want = new Float32Array(b.length);
  bf16ToF32(b, want);
  assert.deepEqual(decoded, want);
});

test('bf16 matmul rejects wrong sizes and foreign weights with errors, never a crash', () => {
  const pw = native.prepareWeight({ data: randn(6 * 4), layout: 'out_in', inDim: 6, outDim: 4 }, 'bf16');
  assert.throws(() => native.matmul(new Float32Array(5), pw, 1, new Float32Array(4)), RangeError);
  assert.throws(() => native.matmul(new Float32Array(6), pw, 1, new Float32Array(3)), RangeError);
  assert.throws(() => native.prepareWeight({ data: randn(5), layout: 'out_in', inDim: 6, outDim: 4 }, 'bf16'), RangeError);
  assert.throws(() => js.matmul(new Float32Array(6), pw, 1, new Float32Array(4)), TypeError);
});

test("oneDNN's fp32 GEMM matches OpenBLAS on weight-shaped products", () => {
  const addon = requireNativeAddon();
  const m = 33, n = 70, k = 50;
  const a = randn(m * k), b = randn(n * k), c1 = new Float32Array(m * n), c2 = new Float32Array(m * n);
  addon.sgemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, c1, 0, n);
  addon.sgemmDnnl(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, c2, 0, n);
  assert.ok(relErr(c2, c1) < 1e-6);
});

test('the fp32 kernel is measured once per machine and thread count, cached, and overridable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-cache-'));
  const saved = { xdg: process.env.XDG_CACHE_HOME, env: process.env.LAYERLAB_F32_KERNEL };
  try {
    process.env.XDG_CACHE_HOME = dir;
    delete process.env.LAYERLAB_F32_KERNEL;
    let calls = 0;
    // A fake probe where oneDNN takes half the time: it must win, and the cache must answer the second time.
    assert.equal(chooseF32Kernel((k) => (k === 'onednn' ? 1 : 1.1), 3, 'test').kernel, 'openblas', 'a 10% lead is within noise');
    const probe = (kernel: string) => { calls++; return kernel === 'onednn' ? 1 : 2; };
    const first = chooseF32Kernel(probe, 2, 'test');
    assert.equal(first.kernel, 'onednn');
    assert.equal(first.how, 'measured');
    assert.ok(first.gflops!.onednn > first.gflops!.openblas);
    const n = calls;
    const second = chooseF32Kernel(probe, 2, 'test');
    assert.deepEqual([second.kernel, second.how, calls], ['onednn', 'cached', n]);
    assert.ok(JSON.parse(readFileSync(join(dir, 'layerlab', 'f32-kernel.json'), 'utf8')));
    assert.equal(chooseF32Kernel(probe, 1, 'test').how, 'measured', 'another thread count measures again');
    process.env.LAYERLAB_F32_KERNEL = 'openblas';
    assert.deepEqual(chooseF32Kernel(probe, 2, 'test'), { kernel: 'openblas', how: 'env' });
    process.env.LAYERLAB_F32_KERNEL = 'mkl';
    assert.throws(() => chooseF32Kernel(probe, 2, 'test'), /LAYERLAB_F32_KERNEL/);
  } finally {
    if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = saved.xdg;
    if (saved.env === undefined) delete process.env.LAYERLAB_F32_KERNEL; else process.env.LAYERLAB_F32_KERNEL = saved.env;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('native f32 -> bf16 rounds to nearest even like the reference, on ties, subnormals, overflow, infinities and NaN', () => {
  const addon = requireNativeAddon();
  const u32 = new Uint32Array([
    0x3f800000, 0x3f808000 /* tie, even kept */, 0x3f818000 /* tie, rounds up to even */, 0x3f808001, 0x3f807fff,
    0x00000001 /* smallest subnormal */, 0x00408000, 0x807fffff, 0x7f7fffff /* max finite: rounds to +Inf */, 0xff7fffff,
    0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001 /* signalling NaN stays NaN */, 0xffffffff, 0x80000000,
  ]);
  // Expected bits worked out by hand (round half to even on the low 16 bits; NaN keeps a mantissa bit).
  const expected = [0x3f80, 0x3f80, 0x3f82, 0x3f81, 0x3f80, 0x0000, 0x0040, 0x8080, 0x7f80, 0xff80, 0x7f80, 0xff80, 0x7fc0, 0x7fc0, 0xffff, 0x8000];
  // Repeated past one vector width, with an odd length, so the AVX-512 body and the tail both run.
  const reps = 37;
  const src = new Float32Array(u32.length * reps);
  for (let r = 0; r < reps; r++) src.set(new Float32Array(u32.buffer), r * u32.length);
  const got = new Uint16Array(src.length), ref = new Uint16Array(src.length);
  addon.f32ToBf16(src, got, src.length);
  f32ToBf16(src, ref);
  assert.deepEqual([...got.subarray(0, u32.length)], expected);
  assert.deepEqual(got, ref);
});
