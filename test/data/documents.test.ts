import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { documentFormat, readDocuments } from '../../src/data/documents.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { tempDir, writeTemp } from './helpers/temp.js';
import { tinyParquet } from './helpers/tiny-parquet.js';

const dir = tempDir();
const pile = (...p: string[]) => sharedPath('data', 'pile_like', ...p)!;

/** The digest computed here in one go, to check the streamed one. */
function digestOf(path: string): { sha256: string; bytes: number } {
  const buf = readFileSync(path);
  return { sha256: createHash('sha256').update(buf).digest('hex'), bytes: buf.length };
}

/** Each non-empty line's field, parsed here independently of the reader. */
function jsonlField(path: string, field = 'text'): unknown[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)[field]);
}

test('format comes from the extension', () => {
  assert.equal(documentFormat('a/b.jsonl'), 'jsonl');
  assert.equal(documentFormat('a/b.JSON'), 'jsonl');
  assert.equal(documentFormat('a/b.parquet'), 'parquet');
  assert.equal(documentFormat('a/b.txt'), 'text');
  assert.equal(documentFormat('a/b.text'), 'text');
  assert.equal(documentFormat('a/README'), 'text');
});

test('C4 sample: JSONL and parquet give the same 2000 documents', needsShared('data', 'pile_like', 'c4_validation_2k.parquet'), async () => {
  const jsonlPath = pile('c4_validation_2k.jsonl');
  const parquetPath = pile('c4_validation_2k.parquet');
  const j = await readDocuments(jsonlPath);
  const p = await readDocuments(parquetPath);
  assert.equal(j.format, 'jsonl');
  assert.equal(p.format, 'parquet');
  assert.equal(j.docs.length, 2000);
  assert.equal(p.docs.length, 2000);
  // The JSONL was converted from the parquet row by row, so the two readers must agree exactly.
  assert.ok(j.docs.every((d, i) => d === p.docs[i]), 'JSONL and parquet documents differ');
  assert.deepEqual(j.docs, jsonlField(jsonlPath));
  assert.deepEqual({ sha256: j.sha256, bytes: j.bytes }, digestOf(jsonlPath));
  assert.deepEqual({ sha256: p.sha256, bytes: p.bytes }, digestOf(parquetPath));
  assert.notEqual(j.sha256, p.sha256);
});

test('C4 sample: maxDocs keeps the first documents of either format', needsShared('data', 'pile_like', 'c4_validation_2k.parquet'), async () => {
  const expected = jsonlField(pile('c4_validation_2k.jsonl')).slice(0, 7);
  const j = await readDocuments(pile('c4_validation_2k.jsonl'), { maxDocs: 7 });
  const p = await readDocuments(pile('c4_validation_2k.parquet'), { maxDocs: 7 });
  assert.deepEqual(j.docs, expected);
  assert.deepEqual(p.docs, expected);
  // Provenance is of the whole file, not of the part read.
  assert.equal(p.sha256, digestOf(pile('c4_validation_2k.parquet')).sha256);
});

test('C4 parquet: another column by textField', needsShared('data', 'pile_like', 'c4_validation_2k.parquet'), async () => {
  const urls = await readDocuments(pile('c4_validation_2k.parquet'), { textField: 'url', maxDocs: 50 });
  assert.deepEqual(urls.docs, jsonlField(pile('c4_validation_2k.jsonl'), 'url').slice(0, 50));
});

test('Pile sample (tuned-lens): 10 documents', needsShared('data', 'pile_like', 'pile_text_tunedlens.jsonl'), async () => {
  const path = pile('pile_text_tunedlens.jsonl');
  const r = await readDocuments(path);
  assert.equal(r.docs.length, 10);
  assert.deepEqual(r.docs, jsonlField(path));
  assert.deepEqual({ sha256: r.sha256, bytes: r.bytes }, digestOf(path));
});

test('plain text: blank lines separate documents, CRLF normalized, docs trimmed', async () => {
  const raw = '\r\n\r\n  first doc\r\nline two  \r\n\r\n\r\n \t \r\nsecond\n\n\n\nthird doc\n  indented\n\n   \n';
  const path = writeTemp(dir, 'corpus.txt', raw);
  const r = await readDocuments(path);
  assert.equal(r.format, 'text');
  assert.deepEqual(r.docs, ['first doc\nline two', 'second', 'third doc\n  indented']);
  assert.deepEqual({ sha256: r.sha256, bytes: r.bytes }, digestOf(path));
  assert.deepEqual((await readDocuments(path, { maxDocs: 2 })).docs, ['first doc\nline two', 'second']);
  // Unknown extensions are plain text too.
  assert.deepEqual((await readDocuments(writeTemp(dir, 'corpus.md', 'a\n\nb'))).docs, ['a', 'b']);
});

test('JSONL: custom textField, blank lines skipped, text kept verbatim', async () => {
  const lines = ['{"body": "  spaced  ", "n": 1}', '', '{"body": "two\\nlines"}', '   ', '{"body": "é ✓"}'];
  const path = writeTemp(dir, 'c.jsonl', '\uFEFF' + lines.join('\r\n') + '\r\n');
  const r = await readDocuments(path, { textField: 'body' });
  assert.deepEqual(r.docs, ['  spaced  ', 'two\nlines', 'é ✓']);
  assert.deepEqual((await readDocuments(path, { textField: 'body', maxDocs: 2 })).docs, ['  spaced  ', 'two\nlines']);
});

test('parquet written independently: chosen column, maxDocs, unicode', async () => {
  const text = Array.from({ length: 13 }, (_, i) => `doc ${i} — ✓ ${'x'.repeat(i)}`);
  const path = writeTemp(dir, 'tiny.parquet', tinyParquet([
    { name: 'id', values: text.map((_, i) => String(i)) },
    { name: 'content', values: text },
  ]));
  const r = await readDocuments(path, { textField: 'content' });
  assert.equal(r.format, 'parquet');
  assert.deepEqual(r.docs, text);
  assert.deepEqual((await readDocuments(path, { textField: 'content', maxDocs: 4 })).docs, text.slice(0, 4));
  assert.deepEqual((await readDocuments(path, { textField: 'content', maxDocs: 100 })).docs, text);
});
