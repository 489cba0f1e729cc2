import type { RopeConfig } from './config.js';

/** Inverse frequencies θ^(-2j/rd) for j < rd/2, after any rope scaling. */
export function ropeInverseFrequencies(rope: RopeConfig): Float64Array {
  const half = rope.dims / 2;
  const inv = new Float64Array(half);
  for (let j = 0; j < half; j++) inv[j] = rope.theta ** (-(2 * j) / rope.dims);
  const s = rope.scaling;
  if (s?.type === 'linear') for (let j = 0; j < half; j++) inv[j] /= s.factor;
  if (s?.type === 'llama3') {
    // Llama 3.1+: long wavelengths are slowed down by `factor`, short ones kept, a smooth blend between.
    const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositions / s.highFreqFactor;
    for (let j = 0; j < half; j++) {
      const wavelen = (2 * Math.PI) / inv[j];
      if (wavelen < highWavelen) continue;
      if (wavelen > lowWavelen) inv[j] /= s.factor;
      else {
        const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        inv[j] = (1 - smooth) * (inv[j] / s.factor) + smooth * inv[j];
      }
    }
  }
  return inv;
}

export interface RopeTables {
  /** [T, rd/2] */
  cos: Float32Array;
  sin: Float32Array;
  half: number;
}

/** cos/sin tables for positions 0..seq-1, computed in float64 and stored as float32. */
export function ropeTables(rope: RopeConfig, seq: number): RopeTables {
  const inv = ropeInverseFrequencies(rope);
  const half = inv.length;
  const cos = new Float32Array(seq * half), sin = new Float32Array(seq * half);
  for (let p = 0; p < seq; p++)
    for (let j = 0; j < half; j++) {
      const a = p * inv[j];
      cos[p * half + j] = Math.cos(a);
      sin[p * half + j] = Math.sin(a);
    }
  return { cos, sin, half };
}

/**
 * Rotates, in place, `heads` heads stored in the rows of a fused projection [B*T, ld] from column `col`
 * (rotate_half convention): in each head the pair (x[j], x[j+rd/2]) turns by angle p·inv_freq[j], p being
 * the row's position (row % seq); dimensions >= rd are left alone.
 */
export function applyRope(x: Float32Array, rows: number, seq: number, ld: number, col: number, heads: number, dh: number, t: RopeTables, positions?: Int32Array): void {
  const { cos, sin, half } = t;
  for (let r = 0; r < rows; r++) {
    const c = (positions ? positions[r] : r % seq) * half;
    for (let h = 0; h < heads; h++) {
      const o = r * ld + col + h * dh;
      for (let j = 0; j < half; j++) {
        const x1 = x[o + j], x2 = x[o + j + half];
        x[o + j] = x1 * cos[c + j] - x2 * sin[c + j];
        x[o + j + half] = x2 * cos[c + j] + x1 * sin[c + j];
      }
    }
  }
}
