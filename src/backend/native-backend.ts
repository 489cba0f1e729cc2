import { availableParallelism } from 'node:os';
import type { AttentionDims, Backend, BackendInfo, GemmArgs, PreparedWeight, QkvView, WeightData, WeightDtype, WeightMatrix } from './backend.js';
import { cpuHasBf16, slowCoreWarning } from './cpu.js';
import { requireNativeAddon, type NativeAddon, type PackedHandle } from './addon.js';
import { chooseF32Kernel, type F32KernelChoice } from './f32-kernel.js';
import { RowBlocks, type RowPolicy } from './row-blocks.js';
import type { RopeTables } from '../model/rope.js';

/**
 * How weight products are cut into calls so that a row's result never depends on its batch (row-blocks.ts).
 * f32 GEMMs (OpenBLAS, oneDNN's sgemm) pack the weight on every call, so big calls run whole and only small
 * ones are padded past the row counts where both switch kernels (OpenBLAS: small-matrix kernels by M·N·K;
 * oneDNN: below 16 rows). Prepacked bf16 weights cost nothing to reuse, so oneDNN always gets 32 rows: one
 * shape, one primitive, one thread decomposition. Measured on GPT-2-small shapes (bench/row-blocks.ts).
 */
export const F32_ROWS: RowPolicy = { minRows: 64 };
export const BF16_ROWS: RowPolicy = { minRows: 32, blockRows: 32 };

/** oneDNN ISAs with bf16 dot-product instructions (AVX512-BF16) or AMX tiles. */
const BF16_ISAS = /^avx512_core_(bf16|amx)/;

/** A weight ready for the native kernels: plain f32 (no copy), packed bf16, or plain bf16 multiplied through f32. */
class NativeWeight implements PreparedWeight {
  constructor(
    readonly dtype: WeightDtype,
    readonly layout: 'out_in' | 'in_out',
    readonly inDim: number,
    readonly outDim: number,
    readonly kernel: string,
    readonly f32?: Float32Array,
    readonly packed?: PackedHandle,
    readonly bf16?: Uint16Array,
  ) {}
}

export class NativeBackend implements Backend {
  private f32Choice?: F32KernelChoice;
  private threads: number;
  private readonly bf16Native: boolean;
  private bf16Kernel?: string;
  private readonly rowBlocks = new RowBlocks();

  private constructor(private readonly addon: NativeAddon, bf16: 'auto' | 'via-f32') {
    // Every library gets an explicit thread count: OpenBLAS, oneDNN's OpenMP and our own kernels.
    this.threads = Math.max(1, Number(process.env.LAYERLAB_THREADS ?? 0) || availableParallelism());
    addon.setThreads(this.threads);
    this.bf16Native = bf16 === 'auto' && cpuHasBf16() && BF16_ISAS.test(addon.info().dnnlIsa);
  }

  /**
   * bf16 'via-f32' (or LAYERLAB_BF16=via-f32) takes the path of a CPU without bf16 instructions even where
   * they exist: tests and benchmarks use it to check that path.
   */
  static load(opts: { bf16?: 'auto' | 'via-f32' } = {}): NativeBackend {
    return new NativeBackend(requireNativeAddon(), opts.bf16 ?? (process.env.LAYERLAB_BF16 === 'via-f32' ? 'via-f32' : 'auto'));
  }

  /** The fp32 GEMM for weight products, decided on first use (see f32-kernel.ts). */
  f32Kernel(): F32KernelChoice {
    if (!this.f32Choice) {
      const i = this.addon.info();
      this.f32Choice = chooseF32Kernel((kernel, m, n, k) => {
        const a = new Float32Array(m * k).fill(0.01), b = new Float32Array(n * k).fill(0.01), c = new Float32Array(m * n);
        const fn = kernel === 'onednn' ? this.addon.sgemmDnnl : this.addon.sgemm;
        const t = performance.now();
        fn(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, c, 0, n);
        return performance.now() - t;
      }, this.threads, `${i.config} | oneDNN ${i.dnnlVersion} ${i.dnnlIsa}`);
    }
    return this.f32Choice;
  }

  info(): BackendInfo {
    const i = this.addon.info();
    const bf16 = this.bf16Native ? `onednn:${this.bf16Kernel ?? (i.dnnlIsa === 'avx512_core_amx' ? 'brg:avx512_core_amx' : 'brg:avx512_core_bf16')}` : 'bf16 weights via f32 (openblas)';
    return {
      name: 'openblas',
      core: i.coreName,
      config: i.config,
      threads: i.blasThreads,
      warning: slowCoreWarning(i.coreName),
      kernels: { f32: this.f32Kernel().kernel, bf16, attention: i.attentionKernel },
      onednn: { isa: i.dnnlIsa, version: i.dnnlVersion },
      bf16Native: this.bf16Native,
      threadsByLibrary: { openblas: i.blasThreads, onednn_openmp: i.dnnlThreads, layerlab_kernels: i.kernelThreads },
    };
  }

  setThreads(n: number): void {
    this.addon.setThreads(n);
    if (n !== this.threads) this.f32Choice = undefined;
    this.threads = n;
  }

  gemm(g: GemmArgs): void {
    const lda = g.lda ?? (g.transA ? g.m : g.k), ldb = g.ldb ?? (g.transB ? g.k : g.n), ldc = g.ldc ?? g.n;
    // Every product goes to the chosen GEMM, whatever its size: the kernel never depends on the batch shape.
    const fn = this.f32Kernel().kernel === 'onednn' ? this.addon.sgemmDnnl : this.addon.sgemm;
    fn(g.transA, g.transB, g.m, g.n, g.k, g.alpha ?? 1, g.a, g.aOffset ?? 0, lda, g.b, g.bOffset ?? 0, ldb, g.beta ?? 0, g.c, g.cOffset ?? 0, ldc);
  }

  prepareWeight(w: WeightMatrix, dtype: WeightDtype): PreparedWeight {
    const { layout, inDim, outDim, data } = w;
    if (data.length !== inDim * outDim) throw new RangeError(`weight holds ${data.length} values, expected ${inDim} x ${outDim}`);
    if (dtype === 'f32') {
      const f32 = data instanceof Float32Array ? data : this.toF32(data);
      return new NativeWeight('f32', layout, inDim, outDim, 'f32', f32);
    }
    if (this.bf16Native) {
      const packed = this.addon.bf16Pack(data, layout === 'out_in', inDim, outDim);
      const impl = this.addon.bf16Describe(packed).impl;
      this.bf16Kernel = impl;
      return new NativeWeight('bf16', layout, inDim, outDim, `onednn:${impl}`, undefined, packed);
    }
    const bf16 = data instanceof Uint16Array ? data : this.toBf16(data);
    return new NativeWeight('bf16', layout, inDim, outDim, 'bf16 via f32', undefined, undefined, bf16);
  }

  matmul(x: Float32Array, w: PreparedWeight, rows: number, out: Float32Array, ldOut?: number): void {
    const nw = this.own(w);
    const { inDim: k, outDim: n } = nw;
    const ldc = ldOut ?? n;
    const run = (policy: RowPolicy, product: (x: Float32Array, m: number, out: Float32Array, ldc: number) => void) =>
      this.rowBlocks.run(policy, x, rows, k, out, n, ldc, product);
    // The addon runs the fixed row blocks itself, each thread taking whole blocks; here only padding.
    const bf16Block = BF16_ROWS.blockRows ?? 0;
    if (nw.packed) return run({ minRows: Math.max(BF16_ROWS.minRows, bf16Block) }, (xb, m, ob, ld) => this.addon.bf16Matmul(nw.packed!, xb, m, k, n, ob, ld, bf16Block));
    if (nw.bf16) return run(F32_ROWS, (xb, m, ob, ld) => this.addon.bf16MatmulViaF32(nw.bf16!, nw.layout === 'out_in', k, n, xb, m, ob, ld));
    const outIn = nw.layout === 'out_in';
    run(F32_ROWS, (xb, m, ob, ld) =>
      this.gemm({ transA: false, transB: outIn, m, n, k, a: xb, lda: k, b: nw.f32!, ldb: outIn ? k : n, c: ob, ldc: ld }));
  }

  weightValues(w: PreparedWeight): WeightData {
    const nw = this.own(w);
    if (nw.f32) return nw.f32;
    if (nw.bf16) return nw.bf16;
    const dst = new Uint16Array(nw.inDim * nw.outDim);
    this.addon.bf16Unpack(nw.packed!, nw.inDim, nw.outDim, dst);
    return dst;
  }

  private own(w: PreparedWeight): NativeWeight {
    if (!(w instanceof NativeWeight)) throw new TypeError('weight was prepared by another backend');
    return w;
  }
  private toF32(src: Uint16Array): Float32Array {
    const out = new Float32Array(src.length);
    this.addon.bf16ToF32(src, out, src.length);
    return out;
  }
  private toBf16(src: Float32Array): Uint16Array {
    const out = new Uint16Array(src.length);
    this.addon.f32ToBf16(src, out, src.length);
    return out;
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
  rope(x: Float32Array, rows: number, seq: number, ld: number, col: number, heads: number, dh: number, t: RopeTables, positions?: Int32Array): void {
    this.addon.rope(x, rows, seq, ld, col, heads, dh, t.cos, t.sin, t.half, positions ?? null);
  }
  attention(w: QkvView, out: Float32Array, pattern: Float32Array | undefined, d: AttentionDims): void {
    this.addon.attention(w.qkv, w.ld, w.qCol, w.kCol, w.vCol, out, pattern ?? null, d.batch, d.seq, d.heads, d.kvHeads, d.headDim, d.scale, d.window ?? 0);
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
