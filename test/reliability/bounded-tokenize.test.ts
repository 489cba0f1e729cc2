/*
 * Issue 9, point 4: bounded memory on any input. Documents are tokenized in pieces of at most
 * TOKENIZE_CHUNK_CHARS, split where a word starts, and only until --max-tokens are read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBounded, textPieces, TOKENIZE_CHUNK_CHARS } from '../../src/data/chunked-encode.js';
import { makeWindows, type TokenEncoder } from '../../src/data/windows.js';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { tempDir } from '../data/helpers/temp.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { spawnCli, writeTinyModel } from './helpers.js';

/** A whitespace word tokenizer that records the length of every text it is given. */
function countingTokenizer(): TokenEncoder & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    encode(text: string) {
      calls.push(text.length);
      return text.split(/\s+/).filter(Boolean).map((w) => w.length);
    },
  };
}

const FIFTY_MB = 50 * 1024 * 1024;
const oneLine = (bytes: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes);

test('a 50 MB one-line document with maxTokens 2000 tokenizes a bounded prefix only', () => {
  const doc = oneLine(FIFTY_MB);
  const tok = countingTokenizer();
  const w = makeWindows([doc], tok, { bos: 0, seqLen: 128, maxTokens: 2000 });
  assert.equal(w.tokens, 2000);
  assert.ok(tok.calls.every((n) => n <= TOKENIZE_CHUNK_CHARS + 1), `every call is bounded: ${tok.calls}`);
  const read = tok.calls.reduce((a, b) => a + b, 0);
  // 2000 words of this text fit in the first piece; the anchor probe adds one letter
  assert.ok(read <= TOKENIZE_CHUNK_CHARS + 2, `read ${read} characters of ${doc.length}`);
});

test('pieces end before a word, never split a surrogate pair, and join back to the text', () => {
  const text = 'ab  cd\n\nef 😀😀😀gh ' + 'x'.repeat(50) + ' 😀'.repeat(40) + 'tail';
  for (const max of [3, 7, 16, 33]) {
    const pieces = [...textPieces(text, max)];
    assert.equal(pieces.join(''), text);
    for (const p of pieces) {
      assert.ok(p.length <= max && p.length > 0);
      const last = p.charCodeAt(p.length - 1);
      assert.ok(!(last >= 0xd800 && last <= 0xdbff), 'no lone high surrogate at a cut');
    }
  }
  // where a word start is in reach, the next piece begins with one space and a word
  const words = [...textPieces('one two three four five six', 10)];
  assert.deepEqual(words, ['one two', ' three', ' four five', ' six']);
});

test('with no maxTokens every token is read, in pieces', () => {
  const doc = oneLine(300_000);
  const tok = countingTokenizer();
  const ids = encodeBounded(tok, doc, Infinity);
  assert.equal(ids.length, doc.split(/\s+/).filter(Boolean).length);
  assert.ok(Math.max(...tok.calls) <= TOKENIZE_CHUNK_CHARS + 1);
});

for (const [name, parts] of [['GPT-2 byte-level BPE', ['tokenizers', 'gpt2']], ['SentencePiece (stories260k)', ['models', 'stories260k']]] as const) {
  test(`pieces tokenize exactly like the whole text: ${name}`, needsShared(...parts), () => {
    const tok = loadTokenizer(sharedPath(...parts)!);
    const text = readFileSync(sharedPath('weights', 'text', 'wikitext2_raw_test.txt') ?? sharedPath('weights', 'text', 'tinystories_valid_prefix.txt')!, 'utf8').slice(0, 60_000);
    const whole = tok.encode(text);
    for (const max of [257, 4096]) assert.deepEqual(encodeBounded(tok, text, Infinity, max), whole, `pieces of ${max}`);
    // and a prefix read for a budget equals the first tokens of the whole
    const some = encodeBounded(tok, text, 500, 257);
    assert.deepEqual(some.slice(0, 500), whole.slice(0, 500));
  });
}

test('CLI: sweep and stages on a 50 MB one-line file with --max-tokens 2000 finish with 2000 tokens', () => {
  const dir = tempDir('layerlab-rel-big-');
  const model = writeTinyModel(join(dir, 'model'));
  const data = join(dir, 'big.txt');
  writeFileSync(data, oneLine(FIFTY_MB).replace(/lorem|ipsum|dolor|sit|amet/g, (w) => ({ lorem: 'once', ipsum: 'upon', dolor: 'a', sit: 'time', amet: 'dog' })[w]!));
  // a heap far below what tokenizing 50 MB at once needs: only bounded tokenization fits
  const r = spawnCli(['sweep', '--model', model, '--data', data, '--max-tokens', '2000', '--interventions', 'delete', '--out', join(dir, 'run')], { NODE_OPTIONS: '--max-old-space-size=256' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8')).data.tokens, 2000);
  // stages too, sub-word heads included (their word list is read from a bounded prefix as well)
  const st = spawnCli(['stages', '--model', model, '--data', data, '--max-tokens', '2000', '--analyses', 'subword-heads,logit-lens', '--out', join(dir, 'stages')], { NODE_OPTIONS: '--max-old-space-size=256' });
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'stages', 'manifest.json'), 'utf8')).data.tokens, 2000);
});
