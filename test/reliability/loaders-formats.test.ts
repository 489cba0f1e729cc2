// Guarantee 6: strict formats. safetensors as the reference parser reads it; tokenizer.json merges and
// ids; JSONL UTF-8; unused checkpoint layers; rope_scaling types; --seq-len against the context; token
// ids outside the vocabulary named by file and field.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../../src/load/safetensors.js';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { readDocuments } from '../../src/data/documents.js';
import { loadConfig, loadModelDir } from '../../src/model/model.js';
import { resolveSeqLen } from '../../src/model/context.js';
import { tinyParquet } from '../data/helpers/tiny-parquet.js';
import {
  assertCliUserError, copyFixture, rejectsNaming, runCli, tempRoot, throwsNaming, tinyTokenizerJson, writeJson,
} from './loaders-helpers.js';

const root = tempRoot(after, 'formats');

/** A valid file: two F32 tensors and an I64 one, header padded to 8 bytes as the reference writer does. */
function validSafetensors(path: string): Buffer {
  writeSafetensors(path, {
    a: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    b: { dtype: 'F32', shape: [4], data: Float32Array.from([7, 8, 9, 10]) },
    c: { dtype: 'I64', shape: [1], data: BigInt64Array.from([42n]) },
  }, { format: 'pt' });
  return readFileSync(path);
}

function headerOf(buf: Buffer): { len: number; json: Record<string, any> } {
  const len = Number(buf.readBigUInt64LE(0));
  return { len, json: JSON.parse(buf.subarray(8, 8 + len).toString('utf8')) };
}

/** Re-encodes a file with a new header object (padded), keeping the data section as is. */
function withHeader(buf: Buffer, header: unknown, data = buf.subarray(8 + headerOf(buf).len)): Buffer {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), data]);
}

test('safetensors: a valid file reads back exactly', () => {
  const path = join(root, 'ok.safetensors');
  validSafetensors(path);
  const f = SafetensorsFile.open(path);
  assert.deepEqual([...f.readF32('a')], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(f.readInts('c'), [42]);
  assert.deepEqual(f.metadata, { format: 'pt' });
  f.close();
});

test('safetensors: a header length off by 1-3 (or more) bytes is rejected, never shifting tensors', () => {
  const path = join(root, 'shift.safetensors');
  const good = validSafetensors(path);
  const len = headerOf(good).len;
  for (const k of [-7, -3, -2, -1, 1, 2, 3, 8]) {
    const buf = Buffer.from(good);
    buf.writeBigUInt64LE(BigInt(len + k));
    writeFileSync(path, buf);
    throwsNaming(() => SafetensorsFile.open(path), path, /not a valid safetensors file/);
  }
});

test('safetensors: gaps, overlaps, trailing bytes and tensors past the end are rejected', () => {
  const path = join(root, 'layout.safetensors');
  const good = validSafetensors(path);
  const { json } = headerOf(good);
  const data = good.subarray(8 + headerOf(good).len);
  const cases: [Buffer, RegExp][] = [
    [Buffer.concat([good, Buffer.from([0, 0, 0, 0])]), /4 bytes after the last tensor are covered by no tensor/],
    [withHeader(good, { ...json, b: { ...json.b, data_offsets: [28, 44] } }, Buffer.concat([data.subarray(0, 24), Buffer.alloc(4), data.subarray(24)])), /gap of 4 bytes before tensor 'b'/],
    [withHeader(good, { ...json, b: { ...json.b, data_offsets: [20, 36] } }), /overlaps/],
    [withHeader(good, { ...json, c: { ...json.c, data_offsets: [48, 56] } }), /gap|past the end/],
    [good.subarray(0, good.length - 1), /points past the end|tensors need/],
    [withHeader(good, { ...json, a: { ...json.a, shape: [3, 3] } }), /spans 24 bytes but F32\[3,3\] needs 36/],
  ];
  for (const [buf, pattern] of cases) {
    writeFileSync(path, buf);
    throwsNaming(() => SafetensorsFile.open(path), path, pattern);
  }
});

test('safetensors: header must be a UTF-8 JSON object with known dtypes, integer shapes/offsets and string metadata', () => {
  const path = join(root, 'header.safetensors');
  const good = validSafetensors(path);
  const { json, len } = headerOf(good);
  const badUtf8 = Buffer.from(good);
  badUtf8[8 + len - 1] = 0xff; // replaces a padding space
  const cases: [Buffer, RegExp][] = [
    [badUtf8, /header is not valid UTF-8/],
    [withHeader(good, [1, 2]), /does not start with '\{'/],
    [withHeader(good, { ...json, a: { ...json.a, dtype: 'F33' } }), /unsupported dtype "F33"/],
    [withHeader(good, { ...json, a: { ...json.a, shape: [2, -3] } }), /invalid shape/],
    [withHeader(good, { ...json, a: { ...json.a, shape: [2, 1.5] } }), /invalid shape/],
    [withHeader(good, { ...json, a: { ...json.a, data_offsets: [0, '24'] } }), /invalid data_offsets/],
    [withHeader(good, { ...json, a: { ...json.a, data_offsets: [0.5, 24] } }), /invalid data_offsets/],
    [withHeader(good, { ...json, a: 'F32' }), /tensor 'a' is not described by an object/],
    [withHeader(good, { ...json, __metadata__: { format: 1 } }), /__metadata__ value 'format' must be a string/],
    [withHeader(good, { ...json, __metadata__: ['pt'] }), /__metadata__ must be an object of strings/],
    [withHeader(good, { ...json, a: { ...json.a, shape: [2 ** 40, 2 ** 40] } }), /too large to exist/],
  ];
  for (const [buf, pattern] of cases) {
    writeFileSync(path, buf);
    throwsNaming(() => SafetensorsFile.open(path), path, pattern);
  }
});

test('CLI: forward on a checkpoint whose header length is 2 bytes short exits with one line naming the file', () => {
  const dir = copyFixture(root, 'llama', 'cli-short');
  const file = join(dir, 'model.safetensors');
  const buf = readFileSync(file);
  const len = Number(buf.readBigUInt64LE(0));
  assert.equal(buf.toString('latin1', 8 + len - 2, 8 + len), '  ', 'fixture header ends in padding, so a shorter length still parses as JSON');
  buf.writeBigUInt64LE(BigInt(len - 2));
  writeFileSync(file, buf);
  const idsFile = join(root, 'ids.json');
  writeJson(idsFile, [[1, 2, 3]]);
  assertCliUserError(runCli(['forward', '--model', dir, '--input-ids', idsFile, '--out', join(root, 'out.safetensors')]), file, /not a valid safetensors file/);
});

function tokenizerDir(name: string, edit: (t: Record<string, any>) => void, extra: Record<string, unknown> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const t = tinyTokenizerJson();
  edit(t);
  writeJson(join(dir, 'tokenizer.json'), t);
  for (const [file, value] of Object.entries(extra)) writeJson(join(dir, file), value);
  return dir;
}

test('tokenizer.json: the tiny tokenizer used below is sound', () => {
  const tok = loadTokenizer(tokenizerDir('tok-ok', () => {}));
  assert.deepEqual(tok.encode('the band'), [29 + 1, 3 + 1, 29 + 5]);
  assert.equal(tok.vocabSize, 35);
});

test('tokenizer.json: malformed merges are rejected with the file named', () => {
  const cases: [(t: Record<string, any>) => void, RegExp][] = [
    [(t) => t.model.merges.push('a b c'), /merge 6 "a b c" is not a pair of two tokens/],
    [(t) => t.model.merges.push('a'), /is not a pair/],
    [(t) => t.model.merges.push('a zz'), /names 'zz', which is not in the vocabulary/],
    [(t) => t.model.merges.push('x y'), /makes 'xy', which is not in the vocabulary/],
    [(t) => t.model.merges.push(42), /merge 6 is 42, neither/],
    [(t) => t.model.merges.push(['a', 'b', 'c']), /not a pair/],
    [(t) => { t.model.merges = 'a b'; }, /merges must be a list/],
  ];
  for (const [i, [edit, pattern]] of cases.entries()) {
    const dir = tokenizerDir(`tok-merge-${i}`, edit);
    throwsNaming(() => loadTokenizer(dir), join(dir, 'tokenizer.json'), pattern);
  }
});

test('tokenizer.json: vocabulary holes, shared, negative and fractional ids are rejected', () => {
  const cases: [(t: Record<string, any>) => void, RegExp][] = [
    [(t) => { t.model.vocab.and = 40; }, /ids have holes: 35 tokens but id 40 is used and id 34 is not/],
    [(t) => { t.model.vocab.z = 3; }, /'z' and 'a' share id 3|'a' and 'z' share id 3/],
    [(t) => { t.model.vocab.z = -1; }, /'z' has id -1/],
    [(t) => { t.model.vocab.z = 28.5; }, /'z' has id 28.5/],
    [(t) => { t.added_tokens.push({ id: 99, content: '<pad>', special: true }); }, /ids have holes/],
    [(t) => { t.added_tokens.push({ id: 3, content: '<pad>', special: true }); }, /share id 3/],
    [(t) => { delete t.model; }, /no 'model' object/],
  ];
  for (const [i, [edit, pattern]] of cases.entries()) {
    const dir = tokenizerDir(`tok-vocab-${i}`, edit);
    throwsNaming(() => loadTokenizer(dir), join(dir, 'tokenizer.json'), pattern);
  }
  // An added token continuing the id range is fine.
  const ok = tokenizerDir('tok-added', (t) => t.added_tokens.push({ id: 35, content: '<pad>', special: true }));
  assert.equal(loadTokenizer(ok).vocabSize, 36);
});

test('special tokens and encoded ids outside the model vocabulary name the file and field', () => {
  const cfgDir = tokenizerDir('tok-bos-unknown', () => {}, { 'tokenizer_config.json': { bos_token: '<bos>' } });
  throwsNaming(() => loadTokenizer(cfgDir), join(cfgDir, 'tokenizer_config.json'), /field 'bos_token' names "<bos>", which is not a token of tokenizer.json/);
  const mapDir = tokenizerDir('tok-eos-map', () => {}, { 'special_tokens_map.json': { eos_token: { content: '</eos>' } } });
  throwsNaming(() => loadTokenizer(mapDir), join(mapDir, 'special_tokens_map.json'), /field 'eos_token'/);
  const small = tokenizerDir('tok-small-model', () => {}, { 'tokenizer_config.json': { bos_token: 'and' } });
  throwsNaming(() => loadTokenizer(small, { vocabSize: 30 }), join(small, 'tokenizer_config.json'), /'bos_token' "and" is token 34, outside the model's vocabulary \(config.json vocab_size 30\)/);
  const tok = loadTokenizer(tokenizerDir('tok-encode', () => {}), { vocabSize: 30 });
  assert.deepEqual(tok.encode('ab'), [3, 4]);
  throwsNaming(() => tok.encode('the'), join(root, 'tok-encode', 'tokenizer.json'), /produced id 30 \('the'\), outside the model's vocabulary/);
});

test('CLI: forward --input-ids with an id outside the vocabulary names the ids file', () => {
  const idsFile = join(root, 'oov-ids.json');
  writeJson(idsFile, [[1, 2, 128]]);
  const r = runCli(['forward', '--model', copyFixture(root, 'llama', 'cli-oov'), '--input-ids', idsFile, '--out', join(root, 'oov-out.safetensors')]);
  assertCliUserError(r, idsFile, /token id 128 at position 2 of row 0 is outside the vocabulary \(size 128\)/);
  writeJson(idsFile, [[1, 2, 4294967297]]);
  assertCliUserError(runCli(['forward', '--model', join(root, 'cli-oov'), '--input-ids', idsFile, '--out', join(root, 'oov-out.safetensors')]), idsFile, /token id 4294967297/);
});

test('JSONL with invalid UTF-8 is rejected like plain text; multi-byte characters across read chunks are kept', async () => {
  const bad = join(root, 'bad.jsonl');
  writeFileSync(bad, Buffer.concat([Buffer.from('{"text":"fine"}\n{"text":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
  await rejectsNaming(() => readDocuments(bad), bad, /JSONL corpus is not valid UTF-8/);
  const lone = join(root, 'lone.jsonl');
  writeFileSync(lone, Buffer.concat([Buffer.from('{"text":"x'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}\n')])); // an encoded surrogate
  await rejectsNaming(() => readDocuments(lone), lone, /not valid UTF-8/);
  // 64 KiB read chunks: with 3-byte characters some fall across a chunk boundary.
  const good = join(root, 'good.jsonl');
  const text = '€'.repeat(50_000);
  writeFileSync(good, JSON.stringify({ text }) + '\n');
  assert.deepEqual((await readDocuments(good)).docs, [text]);
});

test('Parquet strings with invalid UTF-8 are rejected too, not decoded into U+FFFD', async () => {
  const bytes = tinyParquet([{ name: 'text', values: ['good text', 'caf@@ here'] }]);
  const at = bytes.indexOf('@@');
  bytes[at] = 0xc3;
  bytes[at + 1] = 0x28; // a lead byte followed by a non-continuation byte
  const path = join(root, 'bad.parquet');
  writeFileSync(path, bytes);
  await rejectsNaming(() => readDocuments(path), path, /column "text" holds text that is not valid UTF-8/);
});

test('a checkpoint with more blocks than the config declares is an error naming the folder and the count', () => {
  const dir = copyFixture(root, 'llama', 'unused-layers');
  const file = join(dir, 'config.json');
  writeFileSync(file, readFileSync(file, 'utf8').replace('"num_hidden_layers": 3', '"num_hidden_layers": 2'));
  throwsNaming(() => loadModelDir(dir), dir, /stores 3 blocks \(e\.g\. 'model\.layers\.2\.[^']+'\) but config\.json declares 2 layers/);
});

test('rope_scaling of the wrong type, with a bad type field or bad factors names the field', () => {
  const cases: [unknown, RegExp][] = [
    ['linear', /field 'rope_scaling' must be an object or null, got "linear"/],
    [[8, 1, 4], /field 'rope_scaling' must be an object or null/],
    [{ rope_type: 3 }, /field 'rope_scaling.rope_type' must be a string, got 3/],
    [{ type: 'linear', factor: -2 }, /field 'rope_scaling.factor' must be a positive finite number, got -2/],
    [{ type: 'linear' }, /required field 'rope_scaling.factor' is missing/],
    [{ rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 4, original_max_position_embeddings: 64 }, /high_freq_factor \(4\) must be larger than rope_scaling.low_freq_factor/],
    [{ rope_type: 'yarn', factor: 2 }, /rope_scaling type 'yarn' is not supported/],
  ];
  for (const [i, [value, pattern]] of cases.entries()) {
    const dir = copyFixture(root, 'llama', `rope-${i}`);
    const file = join(dir, 'config.json');
    const c = JSON.parse(readFileSync(file, 'utf8'));
    c.rope_scaling = value;
    writeFileSync(file, JSON.stringify(c));
    throwsNaming(() => loadConfig(dir), file, pattern);
  }
  for (const fam of ['gpt_neox', 'phi']) {
    const dir = copyFixture(root, fam, `rope-${fam}`);
    const file = join(dir, 'config.json');
    const c = JSON.parse(readFileSync(file, 'utf8'));
    c.rope_scaling = 2;
    writeFileSync(file, JSON.stringify(c));
    throwsNaming(() => loadConfig(dir), file, /'rope_scaling' must be an object or null/);
  }
});

test('--seq-len beyond the context: an error for learned positions, a warning for rotary ones (one check for sweep, stages, paper)', (t) => {
  const gpt2 = loadConfig(copyFixture(root, 'gpt2', 'ctx-gpt2'));
  const llama = loadConfig(copyFixture(root, 'llama', 'ctx-llama'));
  assert.throws(() => resolveSeqLen(gpt2, gpt2.nCtx + 1, 2048), new RegExp(`--seq-len ${gpt2.nCtx + 1} is longer than the model's ${gpt2.nCtx} learned positions`));
  assert.deepEqual(resolveSeqLen(gpt2, gpt2.nCtx, 2048), { seqLen: gpt2.nCtx, source: '--seq-len' });
  assert.equal(resolveSeqLen(gpt2, undefined, 16).seqLen, Math.min(gpt2.nCtx, 16));
  assert.throws(() => resolveSeqLen(llama, 1, 2048), /at least 2/);
  const written: string[] = [];
  t.mock.method(process.stderr, 'write', (s: string) => { written.push(s); return true; });
  assert.equal(resolveSeqLen(llama, llama.nCtx * 2, 2048).seqLen, llama.nCtx * 2);
  t.mock.restoreAll();
  assert.equal(written.length, 1);
  assert.match(written[0], /^layerlab: warning: --seq-len 4096 is longer than the model's trained context of 2048 tokens/);
});
