import type { WeightData } from '../backend/backend.js';
import { weightsAsF32 } from '../load/dtype.js';

/**
 * Canonical parameters. Every matrix is a Linear with an explicit storage layout, so checkpoints are used
 * as stored (GPT-2's Conv1D [in,out] and nn.Linear [out,in] alike) without a transposed copy.
 */
export interface Linear {
  /**
   * Float32, or bf16 bits (Uint16Array) for a bf16 model. Often a view into the memory-mapped checkpoint;
   * for a bf16 model, after packing, a getter that unpacks the values the kernels use (a fresh copy).
   */
  w: WeightData;
  /** 'out_in': w is [out, in] (nn.Linear, y = x W^T); 'in_out': w is [in, out] (Conv1D, y = x W). */
  layout: 'out_in' | 'in_out';
  inDim: number;
  outDim: number;
  b?: Float32Array;
}

export interface NormParams {
  w: Float32Array;
  b?: Float32Array;
}

export interface BlockParams {
  ln1: NormParams;
  /** Absent for parallel_shared_norm (Phi). */
  ln2?: NormParams;
  /** Fused projection; output columns are [q (H*dh) | k (Hkv*dh) | v (Hkv*dh)]. */
  qkv: Linear;
  /** W_O: H*dh -> D. */
  o: Linear;
  /** W_in (and W_gate): D -> dMlp, or D -> 2*dMlp with columns [gate | up] when gated. */
  mlpIn: Linear;
  /** W_out: dMlp -> D. */
  mlpOut: Linear;
}

export interface ModelParams {
  /** Token embedding [V, D] (float32 or bf16 bits, usually as stored). */
  W_E: WeightData;
  /** Learned positions [nCtx, D]. */
  W_pos?: Float32Array;
  blocks: BlockParams[];
  lnFinal: NormParams;
  /** Unembedding stored [V, D] (logits = x W_U^T); the same array as W_E when tied. */
  W_U: WeightData;
  b_U?: Float32Array;
}

/** The Linear as a dense [in, out] matrix (a copy when stored [out, in]). */
export function linearInOut(l: Linear): Float32Array {
  const w = weightsAsF32(l.w);
  if (l.layout === 'in_out') return w;
  const out = new Float32Array(l.inDim * l.outDim);
  for (let o = 0; o < l.outDim; o++) for (let i = 0; i < l.inDim; i++) out[i * l.outDim + o] = w[o * l.inDim + i];
  return out;
}
