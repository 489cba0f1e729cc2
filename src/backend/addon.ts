import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preferredCoreType } from './cpu.js';

/** Opaque handle of a bf16 weight packed by oneDNN (freed when garbage-collected). */
export type PackedHandle = { readonly __packedBf16: unique symbol };

/** The addon's raw surface; only src/backend and src/load/mmap.ts call it. */
export interface NativeAddon {
  sgemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, ao: number, lda: number, b: Float32Array, bo: number, ldb: number, beta: number, c: Float32Array, co: number, ldc: number): void;
  sgemmDnnl(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, ao: number, lda: number, b: Float32Array, bo: number, ldb: number, beta: number, c: Float32Array, co: number, ldc: number): void;
  setThreads(n: number): void;
  info(): { coreName: string; config: string; blasThreads: number; kernelThreads: number; dnnlIsa: string; dnnlVersion: string; dnnlThreads: number; attentionKernel: string };
  bf16Pack(w: Float32Array | Uint16Array, outIn: boolean, k: number, n: number): PackedHandle;
  bf16Describe(h: PackedHandle): { impl: string; bytes: number };
  /** blockRows > 0: rows in fixed blocks of that many (rows >= blockRows), shared among the threads; 0: one call. */
  bf16Matmul(h: PackedHandle, x: Float32Array, rows: number, k: number, n: number, out: Float32Array, ldOut: number, blockRows: number): void;
  bf16Unpack(h: PackedHandle, k: number, n: number, dst: Uint16Array): void;
  bf16MatmulViaF32(w: Uint16Array, outIn: boolean, k: number, n: number, x: Float32Array, rows: number, out: Float32Array, ldOut: number): void;
  f32ToBf16(src: Float32Array, dst: Uint16Array, n: number): void;
  bf16ToF32(src: Uint16Array, dst: Float32Array, n: number): void;
  mapFile(path: string): ArrayBuffer;
  releasePages(view: Float32Array | Uint16Array | Uint8Array): void;
  layerNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, b: Float32Array | null, eps: number): void;
  rmsNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, eps: number): void;
  gelu(x: Float32Array, out: Float32Array, n: number, exact: boolean): void;
  siluMul(gu: Float32Array, out: Float32Array, rows: number, dFF: number): void;
  add(a: Float32Array, b: Float32Array, c: Float32Array | null, out: Float32Array, n: number): void;
  addBias(x: Float32Array, rows: number, cols: number, bias: Float32Array): void;
  rope(x: Float32Array, rows: number, seq: number, ld: number, col: number, heads: number, dh: number, cos: Float32Array, sin: Float32Array, half: number, positions: Int32Array | null): void;
  attention(qkv: Float32Array, ld: number, qCol: number, kCol: number, vCol: number, out: Float32Array, pattern: Float32Array | null, B: number, T: number, H: number, Hkv: number, dh: number, scale: number, window: number): void;
  attentionScores(qkv: Float32Array, ld: number, qCol: number, kCol: number, vCol: number, s: Float32Array, B: number, T: number, H: number, Hkv: number, dh: number, scale: number): void;
  softmaxRows(x: Float32Array, rows: number, cols: number): void;
  attentionApply(p: Float32Array, qkv: Float32Array, ld: number, qCol: number, kCol: number, vCol: number, out: Float32Array, B: number, T: number, H: number, Hkv: number, dh: number): void;
  logitStats(z: Float32Array, rows: number, vocab: number, lse: Float64Array | null, argmax: Int32Array | null, ent: Float64Array | null): void;
  klRows(p: Float32Array, q: Float32Array, rows: number, vocab: number, lp: Float64Array, lq: Float64Array, out: Float64Array): void;
  firstNonFinite(x: Float32Array, n: number): number;
}

function addonPath(): string | undefined {
  // dist/src/backend/addon.js and src/backend/addon.ts both sit below the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'Release', 'layerlab_native.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

let loaded: NativeAddon | undefined | null;

/**
 * The native addon, loaded once; undefined when it was not built. OPENBLAS_CORETYPE must be decided before
 * libopenblas is loaded, so it is set here: Debian's OpenBLAS misdetects recent Xeons and falls back to
 * SSE3 kernels. A user's explicit value always wins.
 */
export function nativeAddon(): NativeAddon | undefined {
  if (loaded === undefined) {
    const path = addonPath();
    if (!path) loaded = null;
    else {
      if (process.env.OPENBLAS_CORETYPE === undefined) {
        const core = preferredCoreType();
        if (core) process.env.OPENBLAS_CORETYPE = core;
      }
      // oneDNN runs on OpenMP, whose idle workers spin by default: they would take the cores our own
      // threads (attention, norms) need right after each matmul. Read by libgomp when it loads.
      process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
      loaded = createRequire(import.meta.url)(path) as NativeAddon;
    }
  }
  return loaded ?? undefined;
}

/** The addon or a clear error (never a silent 50x slowdown). */
export function requireNativeAddon(): NativeAddon {
  const a = nativeAddon();
  if (!a) throw new Error('native addon build/Release/layerlab_native.node not found: run `npm ci` (needs libopenblas-dev, libdnnl-dev, g++, make)');
  return a;
}
