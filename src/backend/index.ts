import type { Backend } from './backend.js';
import { JsBackend } from './js-backend.js';
import { NativeBackend } from './native-backend.js';

export type { Backend, BackendInfo, GemmArgs, AttentionDims, QkvView, PreparedWeight, WeightData, WeightDtype, WeightMatrix } from './backend.js';
export { JsBackend } from './js-backend.js';

let current: Backend | undefined;

/**
 * The process-wide backend. LAYERLAB_BACKEND=js forces the TypeScript kernels and LAYERLAB_BACKEND=native
 * the addon (an error when it is missing). Unset: the addon when it was built, else the TypeScript
 * kernels with one warning on stderr (an installed package whose machine lacked the BLAS headers still
 * works, slowly, and says why). LAYERLAB_THREADS sets threads.
 */
export function getBackend(): Backend {
  if (current) return current;
  const choice = process.env.LAYERLAB_BACKEND;
  if (choice === 'js') current = new JsBackend();
  else if (choice === 'native' || choice === 'openblas') current = NativeBackend.load();
  else if (choice === undefined || choice === '') current = nativeOrFallback();
  else throw new Error(`LAYERLAB_BACKEND must be 'native' or 'js', got '${choice}'`);
  const threads = Number(process.env.LAYERLAB_THREADS ?? 0);
  if (threads > 0) current.setThreads(threads);
  return current;
}

/** Replaces the process-wide backend (tests compare implementations this way). */
export function setBackend(backend: Backend): void {
  current = backend;
}

function nativeOrFallback(): Backend {
  try {
    return NativeBackend.load();
  } catch (e) {
    process.stderr.write(
      `layerlab: warning: native BLAS kernels unavailable (${(e as Error).message.split('\n')[0]}); using the TypeScript kernels, about 10-50x slower. ` +
        'To build them: apt-get install libopenblas-dev libdnnl-dev g++ make python3, then `npm rebuild layerlab` (or `npx node-gyp rebuild --nodedir=/usr` in a checkout)\n',
    );
    return new JsBackend();
  }
}
