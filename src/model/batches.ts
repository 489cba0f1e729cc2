/**
 * Batching of token windows for the forward pass, one function for every caller (stage analyses, sweep
 * engine). Windows are sorted by length (longest first, then input order, a stable sort) and grouped
 * while batch x longest <= maxBatchTokens (always at least one window, so an over-long window runs
 * alone) and every window is at least `minFill` of the longest. Shorter windows are right-padded with
 * their own first id: the models have no attention mask, but with causal attention the tokens after a
 * window's end cannot change its logits, and callers never score padded positions. Deterministic.
 */
import { LayerlabError } from '../util/errors.js';

export interface Batch {
  /** Row-major [batch, seq] token ids. */
  ids: Int32Array;
  batch: number;
  seq: number;
  /** windowIndex[b]: index into the input `windows` of row b. */
  windowIndex: number[];
}

export interface PaddedBatch extends Batch {
  /** Real length of each row's window (rows are right-padded to `seq`). */
  lengths: number[];
}

export interface BatchingOptions {
  /** Shortest window allowed in a batch, as a fraction of its longest (1 = equal lengths only). */
  minFill: number;
  /** One window per batch (the paper's method). */
  oneWindow?: boolean;
  /** Flag named in the error for a bad maxBatchTokens. */
  what?: string;
}

export function batchWindows(windows: readonly Int32Array[], maxBatchTokens: number, opts: BatchingOptions): PaddedBatch[] {
  if (!Number.isInteger(maxBatchTokens) || maxBatchTokens < 1) throw new LayerlabError(`${opts.what ?? 'tokens per batch'} must be a positive integer, got ${maxBatchTokens}`);
  const order = windows.map((_, i) => i).sort((a, b) => windows[b].length - windows[a].length);
  const batches: PaddedBatch[] = [];
  for (let i = 0; i < order.length; ) {
    const seq = windows[order[i]].length;
    const rows = [order[i++]];
    if (!opts.oneWindow)
      while (i < order.length && (rows.length + 1) * seq <= maxBatchTokens && windows[order[i]].length >= opts.minFill * seq) rows.push(order[i++]);
    const ids = new Int32Array(rows.length * seq);
    rows.forEach((k, b) => {
      if (windows[k].length < seq) ids.fill(windows[k][0], b * seq, (b + 1) * seq);
      ids.set(windows[k], b * seq);
    });
    batches.push({ ids, batch: rows.length, seq, windowIndex: rows, lengths: rows.map((k) => windows[k].length) });
  }
  return batches;
}
