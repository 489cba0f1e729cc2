import { getBackend, type Backend } from '../backend/index.js';
import { loadModelDir, type LoadOptions, type Model } from '../model/model.js';
import { BUNDLED } from './bundled.js';
import { resolveModel, type HubOptions } from './hub/resolve.js';

/**
 * The library's one-call loader: `spec` is a model folder or a Hub id ORG/NAME[@REVISION] (local Hugging
 * Face cache first, then the Hub); without `spec`, the bundled kjv-tiny model. `dtype` as the CLI's --dtype.
 */
export async function loadModel(spec: string = BUNDLED.modelDir, opts: HubOptions & LoadOptions & { backend?: Backend } = {}): Promise<Model> {
  const { backend, dtype, ...hub } = opts;
  const where = await resolveModel(spec, hub);
  return loadModelDir(where.dir, { modelId: where.modelId, revision: where.revision, commit: where.commit }, backend ?? getBackend(), { dtype });
}
