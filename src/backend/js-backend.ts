import type { AttentionDims, Backend, BackendInfo, GemmArgs, PreparedWeight, QkvView, WeightData, WeightDtype, WeightMatrix } from './backend.js';
import { bf16ToF32, f32ToBf16, weightsAsBf16, weightsAsF32 } from '../load/dtype.js';
import { applyRope, type RopeTables } from '../model/rope.js';

/** The reference's prepared weight: the values in the weight's dtype, as given (f32) or rounded (bf16). */
class JsWeight implements PreparedWeight {
  readonly kernel = 'js';
  constructor(readonly dtype: WeightDtype, readonly layout: 'out_in' | 'in_out', readonly inDim: number, readonly outDim: number, readonly data: WeightData) {}
}

/**
 * Pure TypeScript backend: the reference for the native kernels in tests and the fallback where the
 * addon is unavailable. About 50x slower than OpenBLAS on large matrices; fine for tiny models.
 */
export class JsBackend implements Backend {
  info(): BackendInfo {
    return {
      name: 'js', core: 'js', config: 'pure TypeScript reference kernels', threads: 1,
      kernels: { f32: 'js', bf16: 'js (bf16 x bf16 products, float64 sums)', attention: 'js' }, bf16Native: false, threadsByLibrary: { js: 1 },
    };
  }

  prepareWeight(w: WeightMatrix, dtype: WeightDtype): PreparedWeight {
    if (w.data.length !== w.inDim * w.outDim) throw new RangeError(`weight holds ${w.data.length} values, expected ${w.inDim} x ${w.outDim}`);
    return new JsWeight(dtype, w.layout, w.inDim, w.outDim, dtype === 'f32' ? weightsAsF32(w.data) : weightsAsBf16(w.data));
  }

  /**
   * f32: x·W in float64. bf16: what a bf16 kernel computes, exactly up to summation order: activations
   * rounded to bf16, products of two bf16 values (exact), sums in float64.
   */
  matmul(x: Float32Array, w: PreparedWeight, rows: number, out: Float32Array, ldOut?: number): void {
    if (!(w instanceof JsWeight)) throw new TypeError('weight was prepared by another backend');
    let a = x.subarray(0, rows * w.inDim);
    if (w.dtype === 'bf16') {
      const bits = new Uint16Array(a.length);
      f32ToBf16(a, bits);
      a = new Float32Array(a.length);
      bf16ToF32(bits, a);
    }
    const b = weightsAsF32(w.data), outIn = w.layout === 'out_in';
    this.gemm({ transA: false, transB: outIn, m: rows, n: w.outDim, k: w.inDim, a, b, ldb: outIn ? w.inDim : w.outDim, c: out, ldc: ldOut ?? w.outDim });
  }

  weightValues(w: PreparedWeight): WeightData {
    if (!(w instanceof JsWeight)) throw new TypeError('weight was prepared by another backend');
    return w.data;
  }

  setThreads(_n: number): void {}

  gemm(g: GemmArgs): void {
    const { transA, transB, m, n, k, a, b, c } = g;
    const alpha = g.alpha ?? 1, beta = g.beta ?? 0;
    const ao = g.aOffset ?? 0, bo = g.bOffset ?? 0, co = g.cOffset ?? 0;
    const lda = g.lda ?? (transA ? m : k), ldb = g.ldb ?? (transB ? k : n), ldc = g.ldc ?? n;
    const row = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a[ao + (transA ? p * lda + i : i * lda + p)];
        if (av === 0) continue;
        if (transB) for (let j = 0; j < n; j++) row[j] += av * b[bo + j * ldb + p];
        else {
          const base = bo + p * ldb;
          for (let j = 0; j < n; j++) row[j] += av * b[base + j];
        }
      }
      const cb = co + i * ldc;
      for (let j = 0; j < n; j++) c[cb + j] = alpha * row[j] + (beta === 0 ? 0 : beta * c[cb + j]);
    }
  }

  layerNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, b: Float32Array | undefined, eps: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += x[o + j];
      const mean = sum / cols;
      let v = 0;
      for (let j = 0; j < cols; j++) v += (x[o + j] - mean) ** 2;
      const inv = 1 / Math.sqrt(v / cols + eps);
      for (let j = 0; j < cols; j++) out[o + j] = (x[o + j] - mean) * inv * w[j] + (b ? b[j] : 0);
    }
  }

  rmsNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, eps: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let ss = 0;
      for (let j = 0; j < cols; j++) ss += x[o + j] * x[o + j];
      const inv = 1 / Math.sqrt(ss / cols + eps);
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j] * inv * w[j];
    }
  }

  gelu(x: Float32Array, out: Float32Array, exact: boolean): void {
    const c = Math.sqrt(2 / Math.PI);
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = exact ? 0.5 * v * (1 + erf(v / Math.SQRT2)) : 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)));
    }
  }

  siluMul(gateUp: Float32Array, out: Float32Array, rows: number, dFF: number): void {
    for (let r = 0; r < rows; r++) {
      const g = r * 2 * dFF, o = r * dFF;
      for (let j = 0; j < dFF; j++) {
        const a = gateUp[g + j];
        out[o + j] = (a / (1 + Math.exp(-a))) * gateUp[g + dFF + j];
      }
    }
  }

  add(a: Float32Array, b: Float32Array, c: Float32Array | undefined, out: Float32Array): void {
    if (c) for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i] + c[i];
    else for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
  }

  rope(x: Float32Array, rows: number, seq: number, ld: number, col: number, heads: number, dh: number, t: RopeTables, positions?: Int32Array): void {
    applyRope(x, rows, seq, ld, col, heads, dh, t, positions);
  }

  addBias(x: Float32Array, rows: number, bias: Float32Array): void {
    const n = bias.length;
    for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) x[r * n + j] += bias[j];
  }

  attention(w: QkvView, out: Float32Array, pattern: Float32Array | undefined, d: AttentionDims): void {
    const p = pattern ?? new Float32Array(d.batch * d.heads * d.seq * d.seq);
    this.attentionScores(w, p, d);
    if (d.window !== undefined) {
      // Query i sees keys j with i - j < window: everything further back is masked before the softmax.
      const T = d.seq, win = d.window;
      for (let m = 0; m < d.batch * d.heads; m++)
        for (let i = win; i < T; i++) p.fill(-Infinity, (m * T + i) * T, (m * T + i) * T + i - win + 1);
    }
    this.softmaxRows(p, d.batch * d.heads * d.seq, d.seq);
    this.attentionApply(p, w, out, d);
  }

  attentionScores(w: QkvView, scores: Float32Array, d: AttentionDims): void {
    const { batch: B, seq: T, heads: H, kvHeads: Hkv, headDim: dh, scale } = d;
    const { qkv, ld } = w;
    const group = H / Hkv;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const qc = w.qCol + h * dh, kc = w.kCol + Math.floor(h / group) * dh, so = (b * H + h) * T * T;
        for (let i = 0; i < T; i++)
          for (let j = 0; j < T; j++) {
            if (j > i) { scores[so + i * T + j] = -Infinity; continue; }
            let s = 0;
            const qo = (b * T + i) * ld + qc, ko = (b * T + j) * ld + kc;
            for (let e = 0; e < dh; e++) s += qkv[qo + e] * qkv[ko + e];
            scores[so + i * T + j] = s * scale;
          }
      }
  }

  softmaxRows(x: Float32Array, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) if (x[o + j] > mx) mx = x[o + j];
      if (mx === -Infinity) { x.fill(0, o, o + cols); continue; }
      let sum = 0;
      for (let j = 0; j < cols; j++) { const e = Math.exp(x[o + j] - mx); x[o + j] = e; sum += e; }
      for (let j = 0; j < cols; j++) x[o + j] /= sum;
    }
  }

  attentionApply(pattern: Float32Array, w: QkvView, out: Float32Array, d: AttentionDims): void {
    const { batch: B, seq: T, heads: H, kvHeads: Hkv, headDim: dh } = d;
    const { qkv, ld } = w;
    const group = H / Hkv;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const po = (b * H + h) * T * T, vc = w.vCol + Math.floor(h / group) * dh;
        for (let i = 0; i < T; i++) {
          const oo = (b * T + i) * H * dh + h * dh;
          for (let e = 0; e < dh; e++) {
            let s = 0;
            for (let j = 0; j <= i; j++) s += pattern[po + i * T + j] * qkv[(b * T + j) * ld + vc + e];
            out[oo + e] = s;
          }
        }
      }
  }

  logitStats(logits: Float32Array, rows: number, vocab: number, lse?: Float64Array, argmax?: Int32Array, entropyBits?: Float64Array): void {
    for (let r = 0; r < rows; r++) {
      const o = r * vocab;
      let mx = -Infinity, best = 0;
      for (let j = 0; j < vocab; j++) if (logits[o + j] > mx) { mx = logits[o + j]; best = j; }
      let sum = 0, weighted = 0;
      for (let j = 0; j < vocab; j++) {
        const dlt = logits[o + j] - mx;
        const e = Math.exp(dlt);
        sum += e;
        weighted += e * dlt;
      }
      const logSum = Math.log(sum);
      if (lse) lse[r] = mx + logSum;
      if (argmax) argmax[r] = best;
      if (entropyBits) entropyBits[r] = (logSum - weighted / sum) / Math.LN2;
    }
  }

  klRows(p: Float32Array, q: Float32Array, rows: number, vocab: number, lseP: Float64Array, lseQ: Float64Array, out: Float64Array): void {
    for (let r = 0; r < rows; r++) {
      const o = r * vocab;
      let acc = 0;
      for (let j = 0; j < vocab; j++) {
        const lp = p[o + j] - lseP[r], lq = q[o + j] - lseQ[r];
        acc += Math.exp(lp) * (lp - lq);
      }
      out[r] = acc > 0 ? acc : 0;
    }
  }

  firstNonFinite(x: Float32Array): number {
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return i;
    return -1;
  }
}

/** Abramowitz-Stegun 7.1.26 is too coarse for 1e-6 parity; this uses the series/continued-fraction pair. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series, converges fast for |x| < 2.5.
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const v = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -v : v;
  }
  // erfc continued fraction (Lentz) for the tail.
  let f = ax, c = ax, dd = 0;
  const tiny = 1e-300;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    dd = ax + an * dd;
    dd = dd === 0 ? tiny : 1 / dd;
    c = ax + an / c;
    if (c === 0) c = tiny;
    const delta = c * dd;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return x < 0 ? erfc - 1 : 1 - erfc;
}
