import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeWindows, packBatches } from '../../src/data/windows.js';
import { LayerlabError } from '../../src/util/errors.js';

/** One token per UTF-16 code unit: token ids are character codes, so windows can be read back as text. */
const charTok = { encode: (s: string) => Array.from(s, (c) => c.charCodeAt(0)) };
const BOS = 0; // never a character code of the test text
const body = (w: Int32Array) => String.fromCharCode(...w.subarray(1));

const docs = ['abcdefghij', '', 'xyz', 'klmnopq', 'r'];

test('every window starts with its own single BOS', () => {
  const { windows } = makeWindows(docs, charTok, { bos: BOS, seqLen: 4 });
  for (const w of windows) {
    assert.equal(w[0], BOS);
    assert.ok(!w.subarray(1).includes(BOS), 'BOS inside a window body');
  }
});

test('long documents are cut into consecutive [BOS]+(seqLen-1) windows; empty docs skipped', () => {
  const seqLen = 4;
  const r = makeWindows(docs, charTok, { bos: BOS, seqLen });
  // Expected layout from the definition: chunks of seqLen-1 characters per document, in order.
  const expected: { doc: number; text: string }[] = [];
  docs.forEach((d, i) => {
    for (let s = 0; s < d.length; s += seqLen - 1) expected.push({ doc: i, text: d.slice(s, s + seqLen - 1) });
  });
  assert.deepEqual(r.windows.map(body), expected.map((e) => e.text));
  assert.deepEqual(r.docIndex, expected.map((e) => e.doc));
  assert.deepEqual(r.windows.map(body), ['abc', 'def', 'ghi', 'j', 'xyz', 'klm', 'nop', 'q', 'r']);
  assert.ok(r.windows.every((w) => w.length <= seqLen));
  assert.equal(r.tokens, docs.join('').length);
  // Each document is reassembled exactly from its windows: nothing dropped, nothing repeated.
  docs.forEach((d, i) => assert.equal(r.windows.filter((_, k) => r.docIndex[k] === i).map(body).join(''), d));
});

test('a document of exactly seqLen-1 tokens is one full window', () => {
  const r = makeWindows(['abc', 'abcdef'], charTok, { bos: BOS, seqLen: 4 });
  assert.deepEqual(r.windows.map((w) => w.length), [4, 4, 4]);
  assert.deepEqual(r.docIndex, [0, 1, 1]);
});

test('maxTokens cuts the last window to hit the budget exactly', () => {
  const all = docs.join('');
  for (const maxTokens of [1, 2, 3, 5, 10, 11, 12, 20, 21, 100]) {
    const r = makeWindows(docs, charTok, { bos: BOS, seqLen: 4, maxTokens });
    const want = Math.min(maxTokens, all.length);
    assert.equal(r.tokens, want, `maxTokens ${maxTokens}`);
    assert.equal(r.windows.map(body).join(''), all.slice(0, want));
    assert.equal(r.windows.reduce((s, w) => s + w.length - 1, 0), want);
    assert.equal(r.docIndex.length, r.windows.length);
  }
  const cut = makeWindows(docs, charTok, { bos: BOS, seqLen: 4, maxTokens: 12 });
  assert.deepEqual(cut.windows.map(body), ['abc', 'def', 'ghi', 'j', 'xy']);
  assert.deepEqual(cut.docIndex, [0, 0, 0, 0, 2]);
});

test('maxTokens stops tokenizing further documents', () => {
  let calls = 0;
  const counting = { encode: (s: string) => (calls++, charTok.encode(s)) };
  makeWindows(docs, counting, { bos: BOS, seqLen: 4, maxTokens: 5 });
  assert.equal(calls, 1);
});

test('maxDocs takes the first documents, counting skipped empty ones', () => {
  const r = makeWindows(docs, charTok, { bos: BOS, seqLen: 8, maxDocs: 3 });
  assert.deepEqual(r.windows.map(body), ['abcdefg', 'hij', 'xyz']);
  assert.deepEqual(r.docIndex, [0, 0, 2]);
  assert.equal(makeWindows(docs, charTok, { bos: BOS, seqLen: 8, maxDocs: 0 }).windows.length, 0);
});

test('seqLen 2: one token per window', () => {
  const r = makeWindows(['abc'], charTok, { bos: 7, seqLen: 2 });
  assert.deepEqual(r.windows.map((w) => Array.from(w)), [[7, 97], [7, 98], [7, 99]]);
});

test('invalid options and token ids are LayerlabErrors', () => {
  const bad = (o: Partial<{ bos: number; seqLen: number; maxTokens: number; maxDocs: number }>, re: RegExp) =>
    assert.throws(() => makeWindows(docs, charTok, { bos: BOS, seqLen: 4, ...o }), (e: unknown) => e instanceof LayerlabError && re.test(e.message));
  bad({ seqLen: 1 }, /seqLen/);
  bad({ seqLen: 3.5 }, /seqLen/);
  bad({ seqLen: NaN }, /seqLen/);
  bad({ bos: 1.5 }, /BOS/);
  bad({ bos: -1 }, /BOS/);
  bad({ maxTokens: 0 }, /maxTokens/);
  bad({ maxDocs: -1 }, /maxDocs/);
  for (const id of [-1, 2.5, 2 ** 31, NaN]) {
    assert.throws(() => makeWindows(['a'], { encode: () => [1, id] }, { bos: 0, seqLen: 4 }), (e: unknown) => e instanceof LayerlabError && /position 1 of document 0/.test(e.message));
  }
});

/** Windows of the given lengths, each filled with its own index so rows can be traced. */
const windowsOfLengths = (lengths: number[]) => lengths.map((n, i) => new Int32Array(n).fill(i));

test('packBatches: equal lengths only, B*T within the limit, every window once', () => {
  const lengths = [4, 4, 2, 4, 3, 4, 4, 2, 3, 4, 1];
  const windows = windowsOfLengths(lengths);
  const maxBatchTokens = 10;
  const batches = packBatches(windows, maxBatchTokens);
  const seen: number[] = [];
  for (const b of batches) {
    assert.equal(b.ids.length, b.batch * b.seq);
    assert.equal(b.windowIndex.length, b.batch);
    assert.ok(b.batch * b.seq <= maxBatchTokens);
    b.windowIndex.forEach((w, row) => {
      assert.equal(windows[w].length, b.seq);
      assert.deepEqual(b.ids.subarray(row * b.seq, (row + 1) * b.seq), windows[w]);
    });
    seen.push(...b.windowIndex);
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), lengths.map((_, i) => i));
  // Order: length descending, then input order; each batch as full as the limit allows.
  assert.deepEqual(batches.map((b) => [b.seq, b.windowIndex]), [
    [4, [0, 1]], [4, [3, 5]], [4, [6, 9]], [3, [4, 8]], [2, [2, 7]], [1, [10]],
  ]);
});

test('packBatches: batch sizes are floor(maxBatchTokens / T), at least 1', () => {
  const windows = windowsOfLengths([5, 5, 5, 5, 5, 5, 5]);
  assert.deepEqual(packBatches(windows, 15).map((b) => b.batch), [3, 3, 1]);
  assert.deepEqual(packBatches(windows, 1000).map((b) => b.batch), [7]);
  // A window longer than the limit still runs, alone.
  assert.deepEqual(packBatches(windows, 3).map((b) => b.batch), [1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(packBatches([], 8), []);
  assert.throws(() => packBatches(windows, 0), LayerlabError);
  assert.throws(() => packBatches(windows, 2.5), LayerlabError);
});

test('packBatches over makeWindows output covers every token once', () => {
  const { windows, tokens } = makeWindows(docs, charTok, { bos: BOS, seqLen: 4 });
  const batches = packBatches(windows, 8);
  assert.equal(batches.reduce((s, b) => s + b.batch * (b.seq - 1), 0), tokens);
  assert.ok(batches.every((b) => b.batch * b.seq <= 8));
});
