import type { Backend } from './backend.js';
import { JsBackend } from './js-backend.js';
import { NativeBackend } from './native-backend.js';

export type { Backend, BackendInfo, GemmArgs, AttentionDims, QkvView, PreparedWeight, WeightData, WeightDtype, WeightMatrix } from './backend.js';
export { JsBackend } from './js-backend.js';

let current: Backend | undefined;

/**
 * The process-wide backend. LAYERLAB_BACKEND=js forces the TypeScript kernels; otherwise the native
 * addon, and a missing addon is an error (never a silent 50x slowdown). LAYERLAB_THREADS sets threads.
 */
export function getBackend(): Backend {
  if (current) return current;
  const choice = process.env.LAYERLAB_BACKEND ?? 'native';
  if (choice === 'js') current = new JsBackend();
  else if (choice === 'native' || choice === 'openblas') current = NativeBackend.load();
  else throw new Error(`LAYERLAB_BACKEND must be 'native' or 'js', got '${choice}'`);
  const threads = Number(process.env.LAYERLAB_THREADS ?? 0);
  if (threads > 0) current.setThreads(threads);
  return current;
}

/** Replaces the process-wide backend (tests compare implementations this way). */
export function setBackend(backend: Backend): void {
  current = backend;
}
