import { getBackend } from '../backend/index.js';
import { resolveModel, type ResolvedModel } from '../load/hub/resolve.js';
import { parseDtype } from '../model/dtype-choice.js';
import { LayerlabError } from '../util/errors.js';
import { loadModelDir, type Model } from '../model/model.js';
import { checkApart, type OutTarget } from './out-path.js';

/**
/**
 * `--model` accepts a folder or ORG/NAME[@REVISION] (local Hugging Face cache first, then the Hub);
 * `dtype` is --dtype's text. Prints a warning once if the BLAS backend runs on a slow path, and one line
 * when bf16 runs without bf16 instructions. `outs`: the command's outputs, refused when they overlap the
 * resolved model folder (a Hub id resolves to a cache folder only here).
 */
export async function openModel(spec: string, outs: OutTarget[] = [], opts: { dtype?: string } = {}): Promise<Model> {
  const dtype = parseDtype(opts.dtype ?? 'f32');
  const where = await resolveModelFlag(spec);
  checkApart(outs, [where.dir]);
  const backend = getBackend();
  const warning = backend.info().warning;
  if (warning) process.stderr.write(`layerlab: warning: ${warning}\n`);
  const model = loadModelDir(where.dir, { modelId: where.modelId, revision: where.revision, commit: where.commit }, backend, { dtype });
  if (model.dtypeDecision.notice) process.stderr.write(`layerlab: ${model.dtypeDecision.notice}\n`);
  return model;
}

/** `--model` resolved to a folder; an empty value is named as the flag it is. */
export async function resolveModelFlag(spec: string): Promise<ResolvedModel> {
  if (spec.trim() === '') throw new LayerlabError('--model is empty; give a model folder or ORG/NAME');
  return resolveModel(spec);
}
