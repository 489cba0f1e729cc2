import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SHARD_DOCS, shardWindows } from '../../src/runs/shards.js';

test('without --shard-docs a corpus is cut into shards of 256 documents (in-process and --queue alike); smaller corpora stay one shard', () => {
  assert.equal(DEFAULT_SHARD_DOCS, 256);
  // 600 documents, the even ones with two windows: 900 windows.
  const docIndex = Array.from({ length: 600 }, (_, d) => (d % 2 === 0 ? [d, d] : [d])).flat();
  const windowsBefore = (doc: number) => doc + Math.ceil(doc / 2); // windows of documents 0..doc-1
  assert.deepEqual(shardWindows(docIndex).map((s) => [s.start, s.end]), [[0, windowsBefore(256)], [windowsBefore(256), windowsBefore(512)], [windowsBefore(512), 900]]);
  assert.deepEqual(shardWindows(docIndex.slice(0, windowsBefore(256))).map((s) => [s.start, s.end]), [[0, windowsBefore(256)]]);
});
