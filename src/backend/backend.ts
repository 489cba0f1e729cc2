import type { RopeTables } from '../model/rope.js';
/**
 * The one compute interface the model code talks to. Buffers are caller-owned Float32Arrays; offsets and
 * leading dimensions are in elements, matrices are row-major. Two implementations exist: the native
 * OpenBLAS addon (fast, default) and a pure TypeScript one (reference, and fallback where the addon
 * cannot be built).
 */
export interface BackendInfo {
  /** 'openblas' or 'js'. */
  name: string;
  /** BLAS kernel family in use (e.g. 'SkylakeX'); 'js' for the fallback. */
  core: string;
  /** Full BLAS build string, for provenance. */
  config: string;
  threads: number;
  /**
   * Kernel behind each weight dtype: f32 'openblas' | 'onednn' | 'js'; bf16 'onednn:<impl>' or '...via-f32';
   * fused attention 'tiled-avx512' | 'blas' | 'js'.
   */
  kernels: { f32: string; bf16: string; attention: string };
  /** oneDNN's effective ISA ('avx512_core_bf16', 'avx512_core_amx', ...) and version; absent without oneDNN. */
  onednn?: { isa: string; version: string };
  /** True when bf16 matmuls run on bf16 instructions (AVX512-BF16 or AMX-BF16), not through f32. */
  bf16Native: boolean;
  /** Thread count set for each library. */
  threadsByLibrary: Record<string, number>;
  /** Set when the backend runs on a known slow path; the CLI prints it. */
  warning?: string;
}

/** Storage precision of weight matrices. Activations, norms, softmax and metrics are always float32. */
export type WeightDtype = 'f32' | 'bf16';

/** Weight values: float32, or bf16 bit patterns (the upper half of a float32) in a Uint16Array. */
export type WeightData = Float32Array | Uint16Array;

/** A weight matrix as stored: 'out_in' is [out, in] (nn.Linear), 'in_out' is [in, out] (Conv1D). */
export interface WeightMatrix {
  data: WeightData;
  layout: 'out_in' | 'in_out';
  inDim: number;
  outDim: number;
}

/**
 * A weight matrix made ready for repeated products x·W (see Backend.prepareWeight): for bf16 on the native
 * backend, packed once into oneDNN's blocked layout. Opaque: only the backend that made it reads it.
 */
export interface PreparedWeight {
  readonly dtype: WeightDtype;
  readonly layout: 'out_in' | 'in_out';
  readonly inDim: number;
  readonly outDim: number;
  /** Kernel that multiplies it, for provenance. */
  readonly kernel: string;
}

export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha?: number;
  a: Float32Array;
  aOffset?: number;
  lda?: number;
  b: Float32Array;
  bOffset?: number;
  ldb?: number;
  beta?: number;
  c: Float32Array;
  cOffset?: number;
  ldc?: number;
}

/**
 * Queries, keys and values read in place from a fused projection [B*T, ld]: query head h occupies
 * columns qCol + h*dh .. +dh of each row, kv head g columns kCol/vCol + g*dh.
 */
export interface QkvView {
  qkv: Float32Array;
  ld: number;
  qCol: number;
  kCol: number;
  vCol: number;
}

/** Shapes of one causal self-attention call; the output is [B,T,H*dh]. */
export interface AttentionDims {
  batch: number;
  seq: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  scale: number;
  /** Sliding window (Mistral): query i sees keys j with i - j < window; absent: every earlier key. */
  window?: number;
}

export interface Backend {
  info(): BackendInfo;
  setThreads(n: number): void;
  /** C = alpha * op(A) * op(B) + beta * C. */
  gemm(args: GemmArgs): void;
  /** Readies a weight matrix for matmul in `dtype` (f32: used as given, no copy; bf16: converted/packed once). */
  prepareWeight(w: WeightMatrix, dtype: WeightDtype): PreparedWeight;
  /**
   * out [rows, outDim] = x [rows, inDim] · W, accumulated in float32. Output rows are ldOut apart (default
   * outDim), so a weight can fill a column block of a wider output (pass out.subarray(firstColumn)).
   */
  matmul(x: Float32Array, w: PreparedWeight, rows: number, out: Float32Array, ldOut?: number): void;
  /** The values a prepared weight multiplies with, in its layout (bf16: the rounded values, unpacked: a copy). */
  weightValues(w: PreparedWeight): WeightData;
  layerNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, b: Float32Array | undefined, eps: number): void;
  rmsNorm(x: Float32Array, out: Float32Array, rows: number, cols: number, w: Float32Array, eps: number): void;
  /** exact=true: erf GELU; false: tanh approximation (gelu_new). */
  gelu(x: Float32Array, out: Float32Array, exact: boolean): void;
  /** gateUp rows are [gate | up], each dFF wide; out rows = silu(gate) * up. */
  siluMul(gateUp: Float32Array, out: Float32Array, rows: number, dFF: number): void;
  /** out = a + b (+ c): residual-stream sums. `out` may alias an input. */
  add(a: Float32Array, b: Float32Array, c: Float32Array | undefined, out: Float32Array): void;
  /** x[r, :] += bias for each of `rows` rows of width bias.length. */
  addBias(x: Float32Array, rows: number, bias: Float32Array): void;
  /**
   * RoPE in place on `heads` heads of `dh` stored from column `col` of rows `ld` apart (rotate_half; see
   * applyRope in src/model/rope.ts, which every backend matches bit for bit).
   */
  rope(x: Float32Array, rows: number, seq: number, ld: number, col: number, heads: number, dh: number, t: RopeTables, positions?: Int32Array): void;
  /** Fused causal attention (sliding window when d.window is set); writes the pattern [B,H,T,T] too when given. */
  attention(view: QkvView, out: Float32Array, pattern: Float32Array | undefined, d: AttentionDims): void;
  /** Scaled scores [B,H,T,T], causally masked with -Infinity (d.window is the caller's to apply). */
  attentionScores(view: QkvView, scores: Float32Array, d: AttentionDims): void;
  /** Row softmax in place; -Infinity entries become 0. */
  softmaxRows(x: Float32Array, rows: number, cols: number): void;
  /** out [B,T,H*dh] = pattern [B,H,T,T] x v. */
  attentionApply(pattern: Float32Array, view: QkvView, out: Float32Array, d: AttentionDims): void;
  /** Per row of logits [rows,V]: log-sum-exp, argmax and entropy in bits (any output may be omitted). */
  logitStats(logits: Float32Array, rows: number, vocab: number, lse?: Float64Array, argmax?: Int32Array, entropyBits?: Float64Array): void;
  /** KL(P||Q) in nats per row, from both rows' logits and log-sum-exp. */
  klRows(p: Float32Array, q: Float32Array, rows: number, vocab: number, lseP: Float64Array, lseQ: Float64Array, out: Float64Array): void;
  /** Index of the first NaN or ±Infinity in x, or -1 when every value is finite. */
  firstNonFinite(x: Float32Array): number;
}
