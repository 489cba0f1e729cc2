import { LayerlabError } from '../util/errors.js';
import { batchWindows, type Batch } from '../model/batches.js';
import { encodeBounded } from './chunked-encode.js';

/** Anything that turns text into token ids, without adding a BOS of its own. */
export interface TokenEncoder {
  encode(text: string): number[];
}

export interface WindowOptions {
  /** BOS token id, put at the start of every window. */
  bos: number;
  /** Total window length including the BOS; a document longer than seqLen-1 tokens gives several windows. */
  seqLen: number;
  /** Stop once this many non-BOS tokens are collected; the last window is cut to hit it exactly. */
  maxTokens?: number;
  /** Use only docs[0 .. maxDocs): like `dataset.take(n)` in the paper's code, skipped empty docs still count. */
  maxDocs?: number;
  /** Use only the first maxDocTokens tokens of each document (BOS not counted); the rest is dropped. */
  maxDocTokens?: number;
}

export interface Windows {
  windows: Int32Array[];
  /** docIndex[i]: index into `docs` of the document window i came from (per-document standard errors). */
  docIndex: number[];
  /** Non-BOS tokens over all windows: the positions that are scored. */
  tokens: number;
}

/**
 * Documents as model inputs. The paper's code runs each document as its own sequence with one BOS
 * prepended (TransformerLens `to_tokens(prepend_bos=True)`), never packing documents together. A document
 * longer than the context is cut into consecutive windows, each [BOS] + the next seqLen-1 tokens, so
 * every window starts at a BOS exactly like a fresh document; no text is dropped or repeated.
 */
export function makeWindows(docs: string[], tok: TokenEncoder, opts: WindowOptions): Windows {
  const { bos, seqLen, maxTokens, maxDocs, maxDocTokens } = opts;
  if (!Number.isInteger(bos) || bos < 0 || bos > 0x7fffffff) {
    throw new LayerlabError(`BOS token id must be a non-negative integer, got ${bos}`);
  }
  if (!Number.isInteger(seqLen) || seqLen < 2) {
    throw new LayerlabError(`seqLen must be an integer >= 2 (BOS plus at least one token), got ${seqLen}`);
  }
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens >= 1)) {
    throw new LayerlabError(`maxTokens must be a positive integer, got ${maxTokens}`);
  }
  if (maxDocs !== undefined && !(Number.isInteger(maxDocs) && maxDocs >= 0)) {
    throw new LayerlabError(`maxDocs must be a non-negative integer, got ${maxDocs}`);
  }
  if (maxDocTokens !== undefined && !(Number.isInteger(maxDocTokens) && maxDocTokens >= 1)) {
    throw new LayerlabError(`maxDocTokens must be a positive integer, got ${maxDocTokens}`);
  }

  const body = seqLen - 1;
  const budget = maxTokens ?? Infinity;
  const nDocs = Math.min(docs.length, maxDocs ?? Infinity);
  const windows: Int32Array[] = [];
  const docIndex: number[] = [];
  let tokens = 0;

  for (let d = 0; d < nDocs && tokens < budget; d++) {
    // Only as much of the document as the remaining budget needs is tokenized (see chunked-encode.ts).
    const perDoc = maxDocTokens ?? Infinity;
    const all = encodeBounded(tok, docs[d], Math.min(budget - tokens, perDoc));
    const ids = all.length > perDoc ? all.slice(0, perDoc) : all;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      // Int32Array would silently wrap or truncate a bad id into a valid-looking one.
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
        throw new LayerlabError(`tokenizer returned an invalid token id ${id} at position ${k} of document ${d}`);
      }
    }
    for (let start = 0; start < ids.length && tokens < budget; start += body) {
      const n = Math.min(body, ids.length - start, budget - tokens);
      const w = new Int32Array(n + 1);
      w[0] = bos;
      for (let j = 0; j < n; j++) w[j + 1] = ids[start + j];
      windows.push(w);
      docIndex.push(d);
      tokens += n;
    }
  }
  return { windows, docIndex, tokens };
}

export type { Batch } from '../model/batches.js';

/**
 * Groups windows into [B, T] batches of equal-length windows with B*T <= maxBatchTokens (always at least
 * one window). Order is deterministic: by length descending, then input order (src/model/batches.ts).
 */
export function packBatches(windows: Int32Array[], maxBatchTokens: number): Batch[] {
  return batchWindows(windows, maxBatchTokens, { minFill: 1, what: 'maxBatchTokens' });
}
