import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AttentionDims, Backend, BackendInfo, GemmArgs, QkvView } from './backend.js';
import { preferredCoreType, slowCoreWarning } from './cpu.js';

/** The addon's raw surface; only this file calls it. */
interface NativeAddon {
  sgemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, ao: number, lda: number, b: Float32Array, bo: number, ldb: number, beta: number, c: Float32Array, co: number, ldc: number): void;
  setThreads(n: number): void;
  info(): { coreName: string; config: string; blasThreads: number; kernelThreads: number };
  layerNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, b: Float32Array | null, eps: number): void;
  rmsNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, eps: number): void;
  gelu(x: Float32Array, out: Float32Array, n: number, exact: boolean): void;
  siluMul(gu: Float32Array, out: Float32Array, rows: number, dFF: number): void;
  add(a: Float32Array, b: Float32Array, c: Float32Array | null, out: Float32Array, n: number): void;
  addBias(x: Float32Array, rows: number, cols: number, bias: Float32Array): void;
  attention(qkv: Float32Array, ld: number, qCol: number, kCol: number, vCol: number, out: Float32Array, pattern: Float32Array | null, B: number, T: number, H: number, Hkv: number, dh: number, scale: number): void;
  attentionScores(qkv: Float32Array, ld: number, qCol: number, kCol: number, vCol: number, s: Float32Array, B: number, T: number, H: number, Hkv: number, dh: number, scale: number): void;
  softmaxRows(x: Float32Array, rows: number, cols: number): void;
  attentionApply(p: Float32Array, qkv: Float32Array, ld: number, qCol: number, kCol: number, vCol: number, out: Float32Array, B: number, T: number, H: number, Hkv: number, dh: number): void;
  logitStats(z: Float32Array, rows: number, vocab: number, lse: Float64Array | null, argmax: Int32Array | null, ent: Float64Array | null): void;
  klRows(p: Float32Array, q: Float32Array, rows: number, vocab: number, lp: Float64Array, lq: Float64Array, out: Float64Array): void;
  firstNonFinite(x: Float32Array, n: number): number;
}

function addonPath(): string {
  // dist/src/backend/native-backend.js and src/backend/native-backend.ts both sit below the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'Release', 'layerlab_native.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('native addon build/Release/layerlab_native.node not found: run `npm ci` (needs libopenblas-dev, g++, make)');
}

export class NativeBackend implements Backend {
  private constructor(private readonly addon: NativeAddon) {}

  /** Loads the addon. OPENBLAS_CORETYPE must be decided before libopenblas is loaded, so it is set here. */
  static load(): NativeBackend {
    // Debian's OpenBLAS misdetects recent Xeons and falls back to SSE3 kernels. Only fill the variable in
    // when the environment leaves it unset: a user's explicit value always wins.
    if (process.env.OPENBLAS_CORETYPE === undefined) {
      const core = preferredCoreType();
      if (core) process.env.OPENBLAS_CORETYPE = core;
    }
    const require = createRequire(import.meta.url);
    return new NativeBackend(require(addonPath()) as NativeAddon);
  }

  info(): BackendInfo {
    const i = this.addon.info();
    return { name: 'openblas', core: i.coreName, config: i.config, threads: i.blasThreads, warning: slowCoreWarning(i.coreName) };
  }

  setThreads(n: number): void { this.addon.setThreads(n); }

  gemm(g: GemmArgs): void {
    const lda = g.lda ?? (g.transA ? g.m : g.k), ldb = g.ldb ?? (g.transB ? g.k : g.n), ldc = g.ldc ?? g.n;
    this.addon.sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha ?? 1, g.a, g.aOffset ?? 0, lda, g.b, g.bOffset ?? 0, ldb, g.beta ?? 0, g.c, g.cOffset ?? 0, ldc);
  }

  layerNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, b: Float32Array | undefined, eps: number): void {
    this.addon.layerNorm(x, out, rows, cols, w, b ?? null, eps);
  }
  rmsNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, eps: number): void {
    this.addon.rmsNorm(x, out, rows, cols, w, eps);
  }
  gelu(x: Float32Array, out: Float32Array, exact: boolean): void { this.addon.gelu(x, out, x.length, exact); }
  siluMul(gateUp: Float32Array, out: Float32Array, rows: number, dFF: number): void { this.addon.siluMul(gateUp, out, rows, dFF); }
  add(a: Float32Array, b: Float32Array, c: Float32Array | undefined, out: Float32Array): void { this.addon.add(a, b, c ?? null, out, out.length); }
  addBias(x: Float32Array, rows: number, bias: Float32Array): void { this.addon.addBias(x, rows, bias.length, bias); }
  attention(w: QkvView, out: Float32Array, pattern: Float32Array | undefined, d: AttentionDims): void {
    this.addon.attention(w.qkv, w.ld, w.qCol, w.kCol, w.vCol, out, pattern ?? null, d.batch, d.seq, d.heads, d.kvHeads, d.headDim, d.scale);
  }
  attentionScores(w: QkvView, scores: Float32Array, d: AttentionDims): void {
    this.addon.attentionScores(w.qkv, w.ld, w.qCol, w.kCol, w.vCol, scores, d.batch, d.seq, d.heads, d.kvHeads, d.headDim, d.scale);
  }
  softmaxRows(x: Float32Array, rows: number, cols: number): void { this.addon.softmaxRows(x, rows, cols); }
  attentionApply(pattern: Float32Array, w: QkvView, out: Float32Array, d: AttentionDims): void {
    this.addon.attentionApply(pattern, w.qkv, w.ld, w.qCol, w.kCol, w.vCol, out, d.batch, d.seq, d.heads, d.kvHeads, d.headDim);
  }
  logitStats(logits: Float32Array, rows: number, vocab: number, lse?: Float64Array, argmax?: Int32Array, entropyBits?: Float64Array): void {
    this.addon.logitStats(logits, rows, vocab, lse ?? null, argmax ?? null, entropyBits ?? null);
  }
  klRows(p: Float32Array, q: Float32Array, rows: number, vocab: number, lseP: Float64Array, lseQ: Float64Array, out: Float64Array): void {
    this.addon.klRows(p, q, rows, vocab, lseP, lseQ, out);
  }
  firstNonFinite(x: Float32Array): number { return this.addon.firstNonFinite(x, x.length); }
}
