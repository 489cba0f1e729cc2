import type { Backend, WeightData } from '../backend/index.js';
import { bf16ToF32 } from '../load/dtype.js';
import { LayerlabError } from '../util/errors.js';

/** What a NaN/Inf value is called in messages ('NaN', 'Infinity', '-Infinity'). */
function describe(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(v);
}

/**
 * Stops a forward pass at the first activation holding NaN or ±Infinity, naming the hook point and the
 * batch row and position, so a broken model or config never turns into silent NaN metrics. One
 * vectorized native scan per checked array (block output, embedding, final norm, logits).
 */
export function assertFiniteActivation(be: Backend, data: Float32Array, hook: string, rowWidth: number, seq: number, source?: string): void {
  const i = be.firstNonFinite(data);
  if (i < 0) return;
  const row = Math.floor(i / rowWidth);
  const where = rowWidth > 0 ? ` (batch row ${Math.floor(row / seq)}, position ${row % seq})` : '';
  throw new LayerlabError(
    `the forward pass produced ${describe(data[i])} first at ${hook}${where}; ` +
      'the model weights or its config (norm epsilon, rope theta, sizes) do not give finite numbers',
    source,
  );
}

/** Index of the first bf16 NaN/Inf (all exponent bits set) in raw bf16 bits, or -1. */
export function firstNonFiniteBf16(bits: Uint16Array): number {
  for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7f80) === 0x7f80) return i;
  return -1;
}

/**
 * Rejects a weight tensor holding NaN or ±Infinity at load, naming the tensor and its file. float32 data
 * goes through the backend's scan; raw bf16 bits (kept as stored for a bf16 model) are scanned here.
 */
export function assertFiniteTensor(be: Backend, data: WeightData, tensor: string, file: string): void {
  const i = data instanceof Float32Array ? be.firstNonFinite(data) : firstNonFiniteBf16(data);
  if (i < 0) return;
  let v: number;
  if (data instanceof Float32Array) v = data[i];
  else { const one = new Float32Array(1); bf16ToF32(data.subarray(i, i + 1), one); v = one[0]; }
  throw new LayerlabError(`tensor '${tensor}' holds ${describe(v)} at element ${i}; the checkpoint is corrupted`, file);
}
