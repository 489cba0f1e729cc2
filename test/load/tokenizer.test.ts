import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, requireBos } from '../../src/load/tokenizer.js';
import { LayerlabError } from '../../src/util/errors.js';
import { needsShared, sharedPath } from '../helpers/shared.js';

interface Case { text: string; ids: number[]; decode_only?: boolean }

test('stories260k: every reference case encodes without BOS and decodes back', needsShared('models', 'stories260k', 'tokenizer_cases.json'), () => {
  const dir = sharedPath('models', 'stories260k')!;
  const tok = loadTokenizer(dir);
  const cases = JSON.parse(readFileSync(join(dir, 'tokenizer_cases.json'), 'utf8')) as Case[];
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    if (!c.decode_only) assert.deepEqual(tok.encode(c.text), c.ids, `encode ${JSON.stringify(c.text.slice(0, 40))}`);
    assert.equal(tok.decode(c.ids, { skipSpecialTokens: true }), c.text, `decode ${JSON.stringify(c.text.slice(0, 40))}`);
  }
  // the post-processor would prepend <s> (id 1); encode must not
  assert.notEqual(tok.encode('Once upon a time')[0], 1);
  assert.equal(tok.bosTokenId, 1);
  assert.equal(tok.eosTokenId, 2);
  assert.equal(tok.vocabSize, 512);
  // special tokens are kept unless asked otherwise
  assert.equal(tok.decode([1, 403], { skipSpecialTokens: true }), tok.decode([403]));
  assert.ok(tok.decode([1, 403]).startsWith('<s>'));
});

test('stories260k: tokenString keeps the leading space a SentencePiece decoder strips', needsShared('models', 'stories260k', 'tokenizer.json'), () => {
  const tok = loadTokenizer(sharedPath('models', 'stories260k')!);
  const ids = tok.encode('Once upon a time');
  assert.equal(ids.map((id) => tok.tokenString(id)).join(''), ' Once upon a time');
  assert.equal(tok.tokenString(1), '<s>');
  // newline is a byte-fallback token <0x0A>
  assert.equal(tok.tokenString(13), '\n');
});

test('stories260k: BOS/EOS from the model config win over tokenizer_config', needsShared('models', 'stories260k', 'tokenizer.json'), () => {
  const tok = loadTokenizer(sharedPath('models', 'stories260k')!, { bosTokenId: 7, eosTokenId: 9 });
  assert.equal(tok.bosTokenId, 7);
  assert.equal(tok.eosTokenId, 9);
});

test('gpt2: byte-level BPE ids, token strings and <|endoftext|> from its config', needsShared('tokenizers', 'gpt2', 'tokenizer.json'), () => {
  const tok = loadTokenizer(sharedPath('tokenizers', 'gpt2')!);
  assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
  assert.deepEqual(tok.encode(' the'), [262]);
  assert.equal(tok.tokenString(262), ' the');
  assert.equal(tok.tokenString(15496), 'Hello');
  assert.equal(tok.bosTokenId, 50256);
  assert.equal(tok.eosTokenId, 50256);
  assert.equal(tok.vocabSize, 50257);
  // decoding is lossless: no clean-up of ' ,' into ','
  const text = "Hello , world . it's";
  assert.equal(tok.decode(tok.encode(text)), text);
  assert.equal(tok.decode([15496, 50256], { skipSpecialTokens: true }), 'Hello');
  assert.equal(tok.decode([15496, 50256]), 'Hello<|endoftext|>');
});

test('a folder without tokenizer.json is a LayerlabError naming it and --input-ids', () => {
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-tok-'));
  try {
    assert.throws(() => loadTokenizer(dir), (e: unknown) => {
      assert.ok(e instanceof LayerlabError);
      assert.match(e.message, /no tokenizer\.json/);
      assert.ok(e.message.includes(dir));
      assert.match(e.message, /--input-ids/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requireBos gives the BOS id, or an error naming the model folder when there is none', () => {
  const withBos = { encode: () => [], decode: () => '', tokenString: () => '', vocabSize: 3, bosTokenId: 1 };
  assert.equal(requireBos(withBos, '/models/x'), 1);
  assert.throws(() => requireBos({ ...withBos, bosTokenId: undefined }, '/models/x'), /\/models\/x: the model defines no BOS token/);
});
