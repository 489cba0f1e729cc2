/**
 * Data shards: a run's token windows split by document into consecutive groups of `shardDocs` documents
 * (default DEFAULT_SHARD_DOCS). Every job of a run works on one shard; results are merged in shard order,
 * so they depend on the data, the options and the shard size only, never on where the jobs ran.
 */
import { LayerlabError } from '../util/errors.js';

/**
 * Documents per shard when --shard-docs is not given, in-process and with --queue alike (the split
 * never depends on where jobs run). Small corpora stay one job, as before; the paper's ~1M tokens of C4
 * (~2,000 documents) become ~8 shards, so a queue run has jobs to spread (x plan subtrees for the sweep)
 * while each job still carries enough windows for full CKA minibatches (128 last tokens).
 */
export const DEFAULT_SHARD_DOCS = 256;

/** Windows [start, end) of one shard (windows are in corpus order, so a shard is a contiguous range). */
export interface Shard {
  index: number;
  start: number;
  end: number;
}

export function shardWindows(docIndex: readonly number[], shardDocs: number = DEFAULT_SHARD_DOCS): Shard[] {
  if (shardDocs !== undefined && (!Number.isInteger(shardDocs) || shardDocs < 1)) throw new LayerlabError(`--shard-docs must be a positive integer, got ${shardDocs}`);
  for (let w = 1; w < docIndex.length; w++) if (docIndex[w] < docIndex[w - 1]) throw new Error('shardWindows: windows must be in document order');
  const shards: Shard[] = [];
  let start = 0, docsIn = 0;
  for (let w = 0; w < docIndex.length; w++) {
    const newDoc = w === 0 || docIndex[w] !== docIndex[w - 1];
    if (newDoc && shardDocs !== undefined && docsIn === shardDocs) {
      shards.push({ index: shards.length, start, end: w });
      start = w;
      docsIn = 0;
    }
    if (newDoc) docsIn++;
  }
  if (docIndex.length > start) shards.push({ index: shards.length, start, end: docIndex.length });
  return shards;
}

/** The order jobs execute in: `order` (a permutation of 0..n-1, for tests) or 0..n-1. */
export function jobOrder(n: number, order?: (n: number) => number[]): number[] {
  const o = order ? order(n) : Array.from({ length: n }, (_, i) => i);
  if (o.length !== n || [...o].sort((a, b) => a - b).some((v, i) => v !== i)) throw new Error(`job order must be a permutation of 0..${n - 1}`);
  return o;
}
