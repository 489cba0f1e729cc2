import type { Backend } from '../backend/index.js';
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

/** Rejects a weight tensor holding NaN or ±Infinity at load, naming the tensor and its file. */
export function assertFiniteTensor(be: Backend, data: Float32Array, tensor: string, file: string): void {
  const i = be.firstNonFinite(data);
  if (i >= 0) throw new LayerlabError(`tensor '${tensor}' holds ${describe(data[i])} at element ${i}; the checkpoint is corrupted`, file);
}
