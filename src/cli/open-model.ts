import { getBackend } from '../backend/index.js';
import { resolveModel } from '../load/hub/resolve.js';
import { parseDtype } from '../model/dtype-choice.js';
import { loadModelDir, type Model } from '../model/model.js';

/**
 * `--model` accepts a folder or ORG/NAME[@REVISION] (local Hugging Face cache first, then the Hub);
 * `dtype` is --dtype's text. Prints a warning once if the BLAS backend runs on a slow path, and one line
 * when bf16 runs without bf16 instructions.
 */
export async function openModel(spec: string, opts: { dtype?: string } = {}): Promise<Model> {
  const dtype = parseDtype(opts.dtype ?? 'f32');
  const where = await resolveModel(spec);
  const backend = getBackend();
  const warning = backend.info().warning;
  if (warning) process.stderr.write(`layerlab: warning: ${warning}\n`);
  const model = loadModelDir(where.dir, { modelId: where.modelId, revision: where.revision, commit: where.commit }, backend, { dtype });
  if (model.dtypeDecision.notice) process.stderr.write(`layerlab: ${model.dtypeDecision.notice}\n`);
  return model;
}
