import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindows } from '../../src/data/windows.js';
import { memoizedEncoder } from '../../src/data/token-cache.js';
import { charTokenizer, syntheticCorpus } from '../stages/helpers.js';

test('a run tokenizes each document once, however many window lengths it makes', () => {
  const docs = syntheticCorpus(9, 25).docs;
  const tok = charTokenizer(64);
  let calls = 0;
  const counting = { encode: (t: string) => (calls++, tok.encode(t)) };
  const enc = memoizedEncoder(counting);
  const long = makeWindows(docs, enc, { bos: 1, seqLen: 64 });
  const short = makeWindows(docs, enc, { bos: 1, seqLen: 16 });
  assert.equal(calls, 9);
  assert.equal(enc.calls, 9);
  assert.deepEqual(long, makeWindows(docs, tok, { bos: 1, seqLen: 64 }));
  assert.deepEqual(short, makeWindows(docs, tok, { bos: 1, seqLen: 16 }));
});
