import { getBackend } from '../backend/index.js';
import { resolveModel } from '../load/hub/resolve.js';
import { loadModelDir, type Model } from '../model/model.js';
import { checkApart, type OutTarget } from './out-path.js';

/**
 * `--model` accepts a folder or ORG/NAME[@REVISION] (local Hugging Face cache first, then the Hub). Also
 * prints a warning once if the BLAS backend runs on a slow path. `outs`: the command's outputs, refused
 * when they overlap the resolved model folder (a Hub id resolves to a cache folder only here).
 */
export async function openModel(spec: string, outs: OutTarget[] = []): Promise<Model> {
  const where = await resolveModel(spec);
  checkApart(outs, [where.dir]);
  const backend = getBackend();
  const warning = backend.info().warning;
  if (warning) process.stderr.write(`layerlab: warning: ${warning}\n`);
  return loadModelDir(where.dir, { modelId: where.modelId, revision: where.revision, commit: where.commit }, backend);
}
