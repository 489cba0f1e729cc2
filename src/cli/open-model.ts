import { getBackend } from '../backend/index.js';
import { loadModel } from '../load/load-model.js';
import type { Model } from '../model/model.js';

/**
 * `--model` accepts a folder or ORG/NAME[@REVISION] (local Hugging Face cache first, then the Hub). Also
 * prints a warning once if the BLAS backend runs on a slow path.
 */
export async function openModel(spec: string): Promise<Model> {
  const backend = getBackend();
  const warning = backend.info().warning;
  if (warning) process.stderr.write(`layerlab: warning: ${warning}\n`);
  return loadModel(spec, { backend });
}
