import { LayerlabError } from '../../util/errors.js';
import type { FamilyAdapter } from './types.js';
import { gpt2Adapter } from './gpt2.js';
import { llamaAdapter } from './llama.js';
import { gptNeoxAdapter } from './gpt-neox.js';
import { phiAdapter } from './phi.js';

/** Every supported family. A new family is one adapter file plus one line here. */
export const ADAPTERS: FamilyAdapter[] = [gpt2Adapter, llamaAdapter, gptNeoxAdapter, phiAdapter];

export function supportedModelTypes(): string[] {
  return ADAPTERS.flatMap((a) => a.modelTypes);
}

export function adapterFor(modelType: unknown, file: string): FamilyAdapter {
  const hit = ADAPTERS.find((a) => a.modelTypes.includes(String(modelType)));
  if (!hit)
    throw new LayerlabError(
      modelType === undefined
        ? `no 'model_type' field; supported model types: ${supportedModelTypes().join(', ')}`
        : `unsupported model_type '${modelType}'; supported: ${supportedModelTypes().join(', ')}`,
      file,
    );
  return hit;
}
