import type { Backend, WeightDtype } from '../backend/index.js';
import { LayerlabError } from '../util/errors.js';

/** What --dtype accepts. */
export type DtypeChoice = WeightDtype | 'auto';
export const DTYPE_CHOICES: readonly DtypeChoice[] = ['f32', 'bf16', 'auto'];

export function parseDtype(text: string, flag = '--dtype'): DtypeChoice {
  if ((DTYPE_CHOICES as readonly string[]).includes(text)) return text as DtypeChoice;
  throw new LayerlabError(`${flag} must be one of ${DTYPE_CHOICES.join(', ')}, got '${text}'`);
}

export interface DtypeDecision {
  dtype: WeightDtype;
  /** Why, in words (recorded in provenance). */
  reason: string;
  /** One line for stderr when bf16 runs without bf16 instructions. */
  notice?: string;
}

/**
 * auto = bf16 where the CPU multiplies bf16 natively (AVX512-BF16 or AMX-BF16, as the backend detected at
 * run time) and the checkpoint's weights are stored in 16 bits; otherwise f32. An explicit bf16 on a CPU
 * without bf16 instructions still runs (bf16 weights multiplied through f32), with a notice.
 */
export function decideDtype(choice: DtypeChoice, halfPrecisionShare: number, backend: Backend): DtypeDecision {
  const native = backend.info().bf16Native;
  const stored16 = halfPrecisionShare > 0.5;
  if (choice === 'f32') return { dtype: 'f32', reason: 'requested' };
  if (choice === 'bf16')
    return native
      ? { dtype: 'bf16', reason: 'requested' }
      : {
          dtype: 'bf16', reason: 'requested; no bf16 instructions on this CPU, computed through f32',
          notice: 'this CPU has no AVX512-BF16 or AMX-BF16: bf16 weights are multiplied through f32 (same weights, slower than --dtype f32)',
        };
  if (native && stored16) return { dtype: 'bf16', reason: 'auto: CPU has bf16 instructions and the checkpoint is stored in 16 bits' };
  return { dtype: 'f32', reason: native ? 'auto: checkpoint is stored in 32 bits' : 'auto: CPU has no AVX512-BF16 or AMX-BF16' };
}
