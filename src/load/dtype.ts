/** Conversions of stored half-precision values to float32 (exact: every f16/bf16 value is a float32). */

export function bf16ToF32(src: Uint16Array, dst: Float32Array): void {
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
}

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

export function f16ToF32(src: Uint16Array, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = F16_TABLE[src[i]];
}

/** float32 -> bf16 bit patterns, rounding to nearest even (as oneDNN and PyTorch do); NaN stays NaN. */
export function f32ToBf16(src: Float32Array, dst: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) {
    const u = bits[i];
    dst[i] = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x40 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
}

/** Weight values as float32: the array itself when already float32, else a decoded copy of bf16 bits. */
export function weightsAsF32(data: Float32Array | Uint16Array): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  bf16ToF32(data, out);
  return out;
}

/** Weight values as bf16 bits: the array itself when already bf16, else a rounded copy. */
export function weightsAsBf16(data: Float32Array | Uint16Array): Uint16Array {
  if (data instanceof Uint16Array) return data;
  const out = new Uint16Array(data.length);
  f32ToBf16(data, out);
  return out;
}
