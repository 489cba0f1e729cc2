/**
 * The corpus under each protocol (choices `document_tokens` and `seq_len` of ./choices.ts): how many
 * tokens of each document are used and how long a window is. The paper's code runs
 * `to_tokens(text, prepend_bos=True)`, which TransformerLens truncates at n_ctx: [BOS] + the first
 * n_ctx − 1 tokens of each document, nothing beyond. layerlab keeps whole documents, cut into windows.
 */
import type { Protocol } from './protocol.js';

/** Longest default window under either protocol: the paper's largest n_ctx (Pythia, 2048). */
export const PAPER_SEQ_LEN_CAP = 2048;

/** The default window cap of the streaming stage analyses: layerlab's 512, the paper's n_ctx (capped). */
export function stagesSeqLenCap(protocol: Protocol): number {
  return protocol === 'paper' ? PAPER_SEQ_LEN_CAP : 512;
}

/**
 * Tokens of each document to use (BOS not counted): --max-doc-tokens when given, else under `paper`
 * seq_len − 1 (one window per document, as the authors' code), else all (undefined).
 */
export function docTokenLimit(protocol: Protocol, seqLen: number, maxDocTokens?: number): number | undefined {
  return maxDocTokens ?? (protocol === 'paper' ? seqLen - 1 : undefined);
}

/** The corpus entries of a run's `choices`. */
export function corpusChoices(protocol: Protocol, seqLen: number, maxDocTokens: number | undefined): Record<string, unknown> {
  const limit = docTokenLimit(protocol, seqLen, maxDocTokens);
  return {
    protocol,
    max_doc_tokens: limit ?? null,
    max_doc_tokens_source: maxDocTokens !== undefined ? '--max-doc-tokens' : limit !== undefined ? 'paper protocol: seq_len − 1, one window per document' : 'none: whole documents',
    document_tokens:
      limit === undefined
        ? `whole documents, cut into consecutive windows of [BOS] + up to ${seqLen - 1} tokens`
        : `the first ${limit} tokens of each document${limit <= seqLen - 1 ? ' ([BOS] + those tokens: one window per document, the rest dropped)' : `, cut into windows of [BOS] + up to ${seqLen - 1} tokens`}`,
  };
}
