import type { Backend } from '../src/backend/index.js';
import { forward } from '../src/model/forward.js';
import { gpt2SmallConfig, randomModel, SeededRandom } from '../src/model/random.js';
import { timeMedian } from './machine.js';

/**
 * Cost of the forward pass's NaN/Inf guard on a GPT-2-small-shaped forward: the guard scans the
 * embedding, each block's output, the final norm and the logits once. The scans are timed on arrays of
 * exactly those sizes (with the native kernel, and with a plain JS loop for comparison) in the same run as
 * the forward pass they guard, and reported as a fraction of it.
 */
export function benchFiniteCheck(backend: Backend, batch = 1, seq = 512, reps = 3) {
  const c = gpt2SmallConfig();
  const model = randomModel(c, 7, backend);
  const rows = batch * seq;
  const rng = new SeededRandom(3);
  const ids = new Int32Array(rows).map(() => Math.floor(rng.uniform() * c.vocabSize));
  forward(model, { ids, batch, seq }); // warm-up
  const forwardMs = timeMedian(reps, () => forward(model, { ids, batch, seq }));

  const resid = rng.fillNormal(new Float32Array(rows * c.dModel), 1);
  const logits = rng.fillNormal(new Float32Array(rows * c.vocabSize), 3);
  const residScans = c.nLayers + 2; // embedding, each block, final norm
  const jsScan = (x: Float32Array) => {
    for (let i = 0; i < x.length; i++) if (x[i] - x[i] !== 0) return i;
    return -1;
  };
  const time = (scan: (x: Float32Array) => number) => {
    scan(resid);
    scan(logits);
    return timeMedian(reps * 3, () => {
      for (let i = 0; i < residScans; i++) scan(resid);
      scan(logits);
    });
  };
  const nativeMs = time((x) => backend.firstNonFinite(x));
  const jsMs = time(jsScan);
  return {
    model: 'gpt2-small (random)',
    batch,
    seq,
    forwardMs: +forwardMs.toFixed(1),
    scannedValues: residScans * resid.length + logits.length,
    nativeScanMs: +nativeMs.toFixed(2),
    nativeOverheadPercent: +((100 * nativeMs) / forwardMs).toFixed(2),
    jsLoopScanMs: +jsMs.toFixed(2),
    jsLoopOverheadPercent: +((100 * jsMs) / forwardMs).toFixed(2),
  };
}
