import { LayerlabError } from '../util/errors.js';
import { warn } from '../util/warn.js';
import type { ModelConfig } from './config.js';

/**
 * The window length a corpus run uses, checked against the model's context in one place (sweep, stages
 * and paper all call this). Beyond the context: an error for learned absolute positions (there are no
 * embeddings for those positions), a warning for rotary models (they run, extrapolating, which a user
 * studying long contexts may want). `cap` bounds the default when --seq-len is not given.
 */
export function resolveSeqLen(c: ModelConfig, requested: number | undefined, cap: number): { seqLen: number; source: string } {
  if (requested === undefined) return { seqLen: Math.min(c.nCtx, cap), source: `model context ${c.nCtx}, capped at ${cap}` };
  if (!Number.isInteger(requested) || requested < 2) throw new LayerlabError(`--seq-len must be an integer of at least 2 (BOS plus one token), got ${requested}`);
  if (requested > c.nCtx) {
    if (c.positional === 'learned')
      throw new LayerlabError(`--seq-len ${requested} is longer than the model's ${c.nCtx} learned positions (config.json n_positions / max_position_embeddings)`);
    warn(`--seq-len ${requested} is longer than the model's trained context of ${c.nCtx} tokens (config.json max_position_embeddings); rotary positions will extrapolate`);
  }
  return { seqLen: requested, source: '--seq-len' };
}
