import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindows, type TokenEncoder } from '../../src/data/windows.js';
import { docTokenLimit } from '../../src/protocol/corpus.js';

/** One token per word: the word's number (a = 10, b = 11, ...), so windows can be read by eye. */
const words: TokenEncoder = { encode: (t) => t.split(/\s+/).filter(Boolean).map((w) => w.charCodeAt(0) - 87) };
// A long document of 10 tokens and a short one of 3; seq_len 5 = [BOS] + 4 tokens.
const docs = ['a b c d e f g h i j', 'k l m'];
const windowsOf = (protocol: 'paper' | 'layerlab', maxDocTokens?: number) =>
  makeWindows(docs, words, { bos: 1, seqLen: 5, maxDocTokens: docTokenLimit(protocol, 5, maxDocTokens) });

test('layerlab: the long document is cut into windows of 4 + 4 + 2 tokens, all 13 tokens scored', () => {
  const w = windowsOf('layerlab');
  assert.deepEqual(w.windows.map((x) => [...x]), [[1, 10, 11, 12, 13], [1, 14, 15, 16, 17], [1, 18, 19], [1, 20, 21, 22]]);
  assert.deepEqual(w.docIndex, [0, 0, 0, 1]);
  assert.equal(w.tokens, 13);
});

test('paper: the first n_ctx tokens of each document (BOS + 4), no window beyond the first: 7 tokens', () => {
  const w = windowsOf('paper');
  assert.deepEqual(w.windows.map((x) => [...x]), [[1, 10, 11, 12, 13], [1, 20, 21, 22]]);
  assert.deepEqual(w.docIndex, [0, 1]);
  assert.equal(w.tokens, 7);
});

test('--max-doc-tokens 6 under either protocol: the first 6 tokens of each document, cut into windows', () => {
  for (const p of ['paper', 'layerlab'] as const) {
    const w = windowsOf(p, 6);
    assert.deepEqual(w.windows.map((x) => [...x]), [[1, 10, 11, 12, 13], [1, 14, 15], [1, 20, 21, 22]], p);
    assert.equal(w.tokens, 9, p);
  }
  assert.throws(() => makeWindows(docs, words, { bos: 1, seqLen: 5, maxDocTokens: 0 }), /maxDocTokens must be a positive integer/);
});

test('--max-tokens still counts across documents under the paper protocol', () => {
  const w = makeWindows(docs, words, { bos: 1, seqLen: 5, maxDocTokens: 4, maxTokens: 6 });
  assert.deepEqual(w.windows.map((x) => [...x]), [[1, 10, 11, 12, 13], [1, 20, 21]]);
});
