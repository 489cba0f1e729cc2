/**
 * From (context, continuation) strings to the tokens HFLM scores (../shared/lm-eval-tasks.md §5.1-5.2, §6):
 * - trailing whitespace of the context moves to the continuation;
 * - whole = encode(context + continuation), context_enc = encode(context), continuation_enc =
 *   whole[len(context_enc):] (the model input is context_enc + continuation_enc, not whole);
 * - an empty context becomes [prefix token] (bos, else eos);
 * - input = (context_enc + continuation_enc)[-(max_length + 1):][:-1] (left truncation), and the
 *   continuation is scored at the last len(continuation_enc) positions of the input.
 */
import type { TextTokenizer } from '../load/tokenizer.js';
import { LayerlabError } from '../util/errors.js';
import { pyRstrip } from './tasks/python-text.js';

/**
 * Which special tokens `tok_encode` adds:
 * - 'harness' (default): lm-eval v0.4.2-v0.4.9.1, the paper's time: add_special_tokens=False for every
 *   model except one whose model_type contains "gemma" (forced add_bos_token=True);
 * - 'tokenizer': lm-eval v0.4.9.2+: the tokenizer's own default (add_special_tokens=True), unless the
 *   string already starts with the BOS token's text.
 */
export type BosRule = 'harness' | 'tokenizer';

export interface EncodeSettings {
  bosRule: BosRule;
  modelType: string;
  /** lm-eval's max_length: the model's n_positions / max_position_embeddings / n_ctx. */
  maxLength: number;
}

export interface ScoredRequest {
  /** Index of the item in its task's item list and of the continuation in the item. */
  item: number;
  choice: number;
  /** Strings after the trailing-whitespace move. */
  contextString: string;
  continuationString: string;
  contextTokens: number[];
  continuationTokens: number[];
  /** Model input (already truncated, the final continuation token dropped). */
  input: number[];
  /** Position in `input` whose logits predict continuationTokens[0]. */
  scoreFrom: number;
  /** Tokens cut off the left by truncation. */
  truncated: number;
}

/** tok_encode under the chosen BOS rule. */
export function makeEncoder(tok: TextTokenizer, s: EncodeSettings): (text: string) => number[] {
  if (s.bosRule === 'harness') {
    if (!s.modelType.toLowerCase().includes('gemma')) return (t) => tok.encode(t);
    return withSpecial(tok, 'the harness adds BOS for Gemma models');
  }
  const bos = tok.bosTokenId === undefined ? undefined : tok.decode([tok.bosTokenId]);
  const special = withSpecial(tok, '--bos tokenizer');
  return (t) => (bos !== undefined && bos !== '' && t.startsWith(bos) ? tok.encode(t) : special(t));
}

function withSpecial(tok: TextTokenizer, why: string): (text: string) => number[] {
  const enc = tok.encodeWithSpecialTokens;
  if (!enc) throw new LayerlabError(`${why}, but this tokenizer cannot add special tokens`);
  return (t) => enc(t);
}

/** One (context, continuation) pair as HFLM scores it. */
export function encodeRequest(encode: (t: string) => number[], prefixTokenId: number | undefined, context: string, continuation: string, s: EncodeSettings, where: { item: number; choice: number }): ScoredRequest {
  let contextTokens: number[], continuationTokens: number[];
  if (context === '') {
    if (prefixTokenId === undefined) throw new LayerlabError(`item ${where.item}: empty context, and the model defines neither a BOS nor an EOS token to use as prefix`);
    contextTokens = [prefixTokenId];
    continuationTokens = encode(continuation);
  } else {
    const n = context.length - pyRstrip(context).length;
    if (n > 0) {
      continuation = context.slice(context.length - n) + continuation;
      context = context.slice(0, context.length - n);
    }
    const whole = encode(context + continuation);
    contextTokens = encode(context);
    continuationTokens = whole.slice(contextTokens.length);
  }
  if (continuationTokens.length === 0) throw new LayerlabError(`item ${where.item}, choice ${where.choice}: the continuation ${JSON.stringify(continuation)} encodes to no tokens`);
  if (continuationTokens.length > s.maxLength)
    throw new LayerlabError(`item ${where.item}, choice ${where.choice}: continuation of ${continuationTokens.length} tokens is longer than the model's ${s.maxLength} positions`);
  const full = [...contextTokens, ...continuationTokens];
  const kept = full.slice(-(s.maxLength + 1));
  const input = kept.slice(0, -1);
  return {
    ...where, contextString: context, continuationString: continuation, contextTokens, continuationTokens,
    input, scoreFrom: input.length - continuationTokens.length, truncated: full.length - kept.length,
  };
}
