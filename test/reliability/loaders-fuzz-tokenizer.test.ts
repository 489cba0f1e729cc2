// Fuzz: tokenizer.json (and tokenizer_config.json). Property: loading raises a LayerlabError naming a
// file of the folder, or gives a tokenizer whose encodings of sample texts are integer ids inside the
// model's vocabulary and whose decodings are strings; encode/decode either work or raise a LayerlabError
// naming tokenizer.json. Never another exception type.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { fuzzSettings, HOSTILE_VALUES, isLayerlabErrorNaming, tempRoot, tinyTokenizerJson } from './loaders-helpers.js';

const root = tempRoot(after, 'fuzz-tok');
const dir = join(root, 'tok');
mkdirSync(dir);
const MODEL_VOCAB = 35;
const TEXTS = ['the band and the thin inn', 'Hello, World! 123', '', '   ', 'ünïcødé 漢字 🎉', 'a'.repeat(300)];
const TOKENS = ['a', 'b', 'th', 'the', 'and', 'zz', '<s>', '</s>', '<unk>', '', ' ', 'x y'];
const VALUES = [...HOSTILE_VALUES, ...TOKENS, { type: 'Whitespace' }, { type: 'Bogus' }, { type: 'ByteLevel' }, { type: 'Sequence', pretokenizers: [] }, 'BPE', 'WordPiece', 'WordLevel', 'Unigram'];

type Json = Record<string, any>;
/** One edit at a path of the tokenizer JSON: set a value, delete, or add a merge / vocab entry / added token. */
const edit: fc.Arbitrary<(t: Json) => void> = fc.oneof(
  // valid growth, so that the success path is exercised too: a new token at the next id, merged from two
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('a', 'b', 'th', 'the', 'an'), fc.constantFrom('d', 'e', 'n', 'and', 'in')).map(([a, b]) => (t: Json) => {
    const vocab = t.model?.vocab;
    if (!vocab || typeof vocab !== 'object' || Array.isArray(vocab) || vocab[a + b] !== undefined) return;
    vocab[a + b] = Object.keys(vocab).length;
    if (Array.isArray(t.model.merges)) t.model.merges.push(`${a} ${b}`);
  }) },
  fc.tuple(fc.constantFrom('model.type', 'model.unk_token', 'model.merges', 'model.vocab', 'normalizer', 'pre_tokenizer', 'decoder', 'post_processor', 'added_tokens', 'model.continuing_subword_prefix', 'model.byte_fallback'), fc.constantFrom(...VALUES), fc.boolean())
    .map(([path, value, del]) => (t: Json) => {
      const parts = path.split('.');
      const parent = parts.length === 2 ? t[parts[0]] : t;
      if (!parent || typeof parent !== 'object') return;
      if (del) delete parent[parts.at(-1)!];
      else parent[parts.at(-1)!] = value;
    }),
  fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom(...TOKENS), fc.constantFrom('string', 'pair', 'triple')).map(([a, b, form]) => (t: Json) => {
    if (!Array.isArray(t.model?.merges)) return;
    t.model.merges.push(form === 'string' ? `${a} ${b}` : form === 'pair' ? [a, b] : [a, b, a]);
  }),
  fc.tuple(fc.constantFrom(...TOKENS), fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constantFrom(...HOSTILE_VALUES))).map(([token, id]) => (t: Json) => {
    if (t.model?.vocab && typeof t.model.vocab === 'object' && !Array.isArray(t.model.vocab)) t.model.vocab[token] = id;
  }),
  fc.tuple(fc.constantFrom(...TOKENS), fc.oneof(fc.integer({ min: -1, max: 40 }), fc.constantFrom(...HOSTILE_VALUES)), fc.boolean()).map(([content, id, special]) => (t: Json) => {
    if (Array.isArray(t.added_tokens)) t.added_tokens.push({ id, content, special, single_word: false, lstrip: false, rstrip: false, normalized: !special });
  }),
  fc.nat().map((k) => (t: Json) => {
    const merges = t.model?.merges;
    if (Array.isArray(merges) && merges.length) merges.splice(k % merges.length, 1);
  }),
);

test('fuzz tokenizer.json: ids inside the vocabulary, or a LayerlabError naming a tokenizer file', () => {
  const outcomes = { ok: 0, rejected: 0 };
  fc.assert(
    fc.property(
      fc.array(edit, { minLength: 1, maxLength: 2 }),
      fc.constantFrom('json', 'json', 'json', 'json', 'json', 'truncated', 'flipped'),
      fc.nat(),
      fc.option(fc.record({ bos_token: fc.constantFrom(...TOKENS, 5, null, { content: 'the' }, { content: 7 }) }), { nil: undefined }),
      (edits, form, at, tokCfg) => {
        const t = tinyTokenizerJson();
        for (const e of edits) e(t);
        let bytes = Buffer.from(JSON.stringify(t));
        if (form === 'truncated') bytes = bytes.subarray(0, at % bytes.length);
        if (form === 'flipped') bytes[at % bytes.length] ^= 1 << (at % 8);
        writeFileSync(join(dir, 'tokenizer.json'), bytes);
        rmSync(join(dir, 'tokenizer_config.json'), { force: true });
        if (tokCfg) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokCfg));
        let tok;
        try {
          tok = loadTokenizer(dir, { vocabSize: MODEL_VOCAB });
        } catch (e) {
          isLayerlabErrorNaming(e, dir);
          if (process.env.LAYERLAB_FUZZ_DEBUG) console.error('REJ', (e as Error).message.slice(dir.length + 1, dir.length + 60));
          outcomes.rejected++;
          return;
        }
        if (tok.bosTokenId !== undefined) assert.ok(Number.isInteger(tok.bosTokenId) && tok.bosTokenId >= 0 && tok.bosTokenId < MODEL_VOCAB);
        for (const text of TEXTS) {
          let ids: number[];
          try {
            ids = tok.encode(text);
          } catch (e) {
            isLayerlabErrorNaming(e, join(dir, 'tokenizer.json'));
            continue;
          }
          for (const id of ids) assert.ok(Number.isInteger(id) && id >= 0 && id < MODEL_VOCAB, `id ${id} for ${JSON.stringify(text)}`);
          try {
            assert.equal(typeof tok.decode(ids), 'string');
            for (const id of ids.slice(0, 5)) assert.equal(typeof tok.tokenString(id), 'string');
          } catch (e) {
            isLayerlabErrorNaming(e, join(dir, 'tokenizer.json'));
          }
        }
        outcomes.ok++;
      },
    ),
    fuzzSettings(400),
  );
  assert.ok(outcomes.ok > 50 && outcomes.rejected > 100, JSON.stringify(outcomes));
});
