/**
 * The context/continuation token split, the BOS rule and truncation of HFLM (lm-eval-tasks.md §5-6), on a
 * toy tokenizer whose merges make the split visible, and on the real GPT-2 tokenizer (skipped when
 * ../shared/tokenizers/gpt2 is absent).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TextTokenizer } from '../../src/load/tokenizer.js';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { encodeRequest, makeEncoder, type EncodeSettings } from '../../src/evaluate/requests.js';
import { needsShared, sharedPath } from '../helpers/shared.js';

/** Characters are tokens (their code), except "ab" (one token, 1000); BOS = 1 is text "<s>". */
function toyTokenizer(): TextTokenizer {
  const encode = (t: string) => {
    const out: number[] = [];
    for (let i = 0; i < t.length; i++) {
      if (t.startsWith('ab', i)) {
        out.push(1000);
        i++;
      } else out.push(t.charCodeAt(i));
    }
    return out;
  };
  return {
    encode,
    encodeWithSpecialTokens: (t) => [1, ...encode(t)],
    decode: (ids) => ids.map((i) => (i === 1 ? '<s>' : i === 1000 ? 'ab' : String.fromCharCode(i))).join(''),
    tokenString: (i) => String(i),
    vocabSize: 1001,
    bosTokenId: 1,
  };
}

const settings: EncodeSettings = { bosRule: 'harness', modelType: 'gpt2', maxLength: 1024 };
const codes = (s: string) => [...s].map((c) => c.charCodeAt(0));

test('trailing whitespace of the context moves into the continuation', () => {
  const enc = makeEncoder(toyTokenizer(), settings);
  const r = encodeRequest(enc, 1, 'Q: x \n ', 'y', settings, { item: 0, choice: 0 });
  assert.equal(r.contextString, 'Q: x');
  assert.equal(r.continuationString, ' \n y');
  assert.deepEqual(r.contextTokens, codes('Q: x'));
  assert.deepEqual(r.continuationTokens, codes(' \n y'));
  assert.deepEqual(r.input, [...codes('Q: x'), ...codes(' \n ')]);
  assert.equal(r.scoreFrom, 3, 'position 3 (the "x") predicts the first continuation token');
});

test('continuation = encode(context + continuation) minus len(encode(context)) tokens; the input is context_enc + continuation_enc', () => {
  const enc = makeEncoder(toyTokenizer(), settings);
  // whole "xabc" = [x, ab, c]; context "xa" = [x, a]: continuation_enc = whole[2:] = [c], the "b" is lost as in lm-eval.
  const r = encodeRequest(enc, 1, 'xa', 'bc', settings, { item: 0, choice: 0 });
  assert.deepEqual(r.contextTokens, codes('xa'));
  assert.deepEqual(r.continuationTokens, codes('c'));
  assert.deepEqual(r.input, codes('xa'));
});

test('BOS rule: none under the harness rule, BOS for Gemma, the tokenizer default under --bos tokenizer', () => {
  const tok = toyTokenizer();
  const plain = encodeRequest(makeEncoder(tok, settings), 1, 'hi', ' yo', settings, { item: 0, choice: 0 });
  assert.deepEqual(plain.contextTokens, codes('hi'));
  const gemma = { ...settings, modelType: 'gemma2' };
  const g = encodeRequest(makeEncoder(tok, gemma), 1, 'hi', ' yo', gemma, { item: 0, choice: 0 });
  assert.deepEqual(g.contextTokens, [1, ...codes('hi')]);
  assert.deepEqual(g.continuationTokens, codes(' yo'), 'the BOS of the whole string is part of the context share');
  const modern = { ...settings, bosRule: 'tokenizer' as const };
  const m = makeEncoder(tok, modern);
  assert.deepEqual(m('hi'), [1, ...codes('hi')]);
  assert.deepEqual(m('<s>hi'), codes('<s>hi'), 'a string that starts with the BOS text gets no second BOS');
});

test('empty context: the prefix token is the context', () => {
  const r = encodeRequest(makeEncoder(toyTokenizer(), settings), 50256, '', 'ab', settings, { item: 0, choice: 0 });
  assert.deepEqual(r.contextTokens, [50256]);
  assert.deepEqual(r.continuationTokens, [1000]);
  assert.deepEqual(r.input, [50256]);
});

test('left truncation to max_length: input = (context + continuation)[-(max+1):][:-1]', () => {
  const s = { ...settings, maxLength: 4 };
  const r = encodeRequest(makeEncoder(toyTokenizer(), s), 1, 'klmnop', ' q', s, { item: 0, choice: 0 });
  assert.deepEqual(r.input, codes('nop '));
  assert.equal(r.truncated, 3);
  assert.equal(r.scoreFrom, 2);
  assert.throws(() => encodeRequest(makeEncoder(toyTokenizer(), s), 1, 'k', ' qrstu', s, { item: 4, choice: 1 }), /item 4, choice 1: continuation of 6 tokens is longer than the model's 4 positions/);
});

test('GPT-2 tokenizer: a context ending in a space is scored as lm-eval does', needsShared('tokenizers', 'gpt2'), () => {
  const tok = loadTokenizer(sharedPath('tokenizers', 'gpt2')!);
  const enc = makeEncoder(tok, settings);
  const r = encodeRequest(enc, 50256, 'Question: What is 2 + 2?\nAnswer: ', 'four', settings, { item: 0, choice: 0 });
  assert.equal(r.contextString, 'Question: What is 2 + 2?\nAnswer:');
  assert.equal(r.continuationString, ' four');
  assert.deepEqual(r.contextTokens, tok.encode('Question: What is 2 + 2?\nAnswer:'));
  assert.deepEqual(r.continuationTokens, tok.encode(' four'), '" four" is one GPT-2 token, not " " + "four"');
  assert.equal(r.continuationTokens.length, 1);
  // Without the move, "Answer: " would end in a lone space token and "four" would lose its space.
  assert.notDeepEqual(tok.encode('Question: What is 2 + 2?\nAnswer: ').slice(-1), tok.encode(' four'));
  assert.ok(!r.contextTokens.includes(50256), 'no <|endoftext|> is prepended (harness rule)');
});
