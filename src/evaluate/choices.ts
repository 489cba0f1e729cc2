/** Every choice `layerlab evaluate` makes that can change a number, recorded in manifest.json and evaluate.json. */
import type { BosRule } from './requests.js';

export const LM_EVAL_REFERENCE = 'EleutherAI/lm-evaluation-harness v0.4.9.1 (d021bf846218f1bb3bdc0603864789329476d464), --model hf, zero-shot; the rules are the same from v0.4.2 except the BOS rule';

export function evaluateChoices(a: { bosRule: BosRule; maxLength: number; prefixTokenId: number | undefined; batchTokens: number; prefixCacheMb: number; limit?: number; strategy: string; bootstrapIters: number }): Record<string, unknown> {
  return {
    harness: LM_EVAL_REFERENCE,
    num_fewshot: 0,
    prompts: 'context = doc_to_text(doc) with no description, few-shot examples or chat template; multiple choice continuation = " " + choice (target_delimiter), loglikelihood continuation = doc_to_target(doc) (no delimiter); task strings as in docs/evaluate.md',
    bos_rule: a.bosRule,
    bos_rule_meaning: a.bosRule === 'harness'
      ? 'lm-eval v0.4.2-v0.4.9.1 (the paper\'s time): add_special_tokens=False, so no BOS for any model, except a model_type containing "gemma" (BOS added)'
      : 'lm-eval v0.4.9.2+: the tokenizer\'s default special tokens (add_special_tokens=True; e.g. Llama prepends <s>), except for a string that already starts with the BOS text',
    prefix_token_id: a.prefixTokenId ?? null,
    prefix_token_use: 'only for an empty context (never for these three tasks): context_enc = [prefix_token_id] (BOS, else EOS)',
    token_split: 'trailing whitespace of the context moves to the continuation; continuation_enc = encode(context + continuation)[len(encode(context)):]; the model input is context_enc + continuation_enc',
    max_length: a.maxLength,
    max_length_source: "the model config's context length (n_positions / max_position_embeddings / n_ctx), as HFLM",
    truncation: 'input = (context_enc + continuation_enc)[-(max_length + 1):][:-1] (left truncation); the continuation is scored on the last len(continuation_enc) input positions',
    loglikelihood: 'sum over continuation tokens of log_softmax(logits)[token], natural log, from float32 logits with float64 log-sum-exp and sums (lm-eval sums in the logits\' dtype: differences of order 1e-6)',
    is_greedy: 'every continuation token is the argmax of its position (ties: the lowest token id, as torch.argmax)',
    acc_multiple_choice: 'argmax over choices of the summed log-likelihood equals gold (ties: the first choice, as numpy.argmax)',
    acc_norm: 'argmax over choices of ll / len(choice) equals gold; len = Python len of the choice WITHOUT the " " delimiter = Unicode code points (not bytes, not tokens), as lm-eval',
    acc_lambada: 'is_greedy over every target token (not only the first)',
    perplexity: 'exp(-mean over documents of the summed target log-likelihood) (per document, not per token)',
    stderr_mean: 'sample std (ddof 1) / sqrt(n); null when n <= 1 (lm-eval writes "N/A")',
    stderr_perplexity: `lm-eval bootstrap: ${a.bootstrapIters / 1000} chunks x 1000 resamples, chunk i drawn with CPython random.Random(i).choices (reimplemented bit for bit), sample std (ddof 1) of the replicates`,
    limit: a.limit ?? null,
    limit_meaning: 'the first --limit documents of each task file, in file order (as lm-eval --limit)',
    data_arc_easy: '[inferred] the llm-foundry ARC-Easy file pads 3-option questions to 4 by repeating a distractor; this changes acc/acc_norm only on an exact tie (lm-eval-tasks.md §8)',
    data_hellaswag: 'the local HellaSwag file is a 1,000-row validation subset (not comparable to full-val numbers); label as int or digit string gives the same gold',
    compute: 'float32 forward passes',
    batch_tokens: a.batchTokens,
    prefix_cache_mb: a.prefixCacheMb,
    execution: a.strategy === 'trie'
      ? 'units of whole items, right-padded into one batch, run once through the trie of plans: shared plan prefixes computed once per unit for all plans; the choices of an item run side by side in the batch; only scored positions are unembedded. Numbers are identical to running every plan separately.'
      : `strategy ${a.strategy} (test/benchmark)`,
  };
}
