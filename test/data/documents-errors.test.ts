import assert from 'node:assert/strict';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDocuments } from '../../src/data/documents.js';
import { LayerlabError } from '../../src/util/errors.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { tempDir, writeTemp } from './helpers/temp.js';
import { tinyParquet } from './helpers/tiny-parquet.js';

const dir = tempDir();

/** Asserts a LayerlabError naming `path` whose message matches every pattern. */
async function rejectsWith(p: Promise<unknown>, path: string, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LayerlabError, `expected LayerlabError, got ${String(e)}`);
    assert.equal(e.file, path);
    assert.ok(e.message.startsWith(`${path}: `), e.message);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

test('missing file, directory', async () => {
  const missing = join(dir, 'nope.jsonl');
  await rejectsWith(readDocuments(missing), missing, /not found/);
  const sub = join(dir, 'folder.txt');
  mkdirSync(sub);
  await rejectsWith(readDocuments(sub), sub, /directory/);
});

test('unreadable file', { skip: process.getuid?.() === 0 ? 'running as root: permissions are not enforced' : undefined }, async () => {
  const path = writeTemp(dir, 'secret.txt', 'hello');
  chmodSync(path, 0o000);
  await rejectsWith(readDocuments(path), path, /not readable/);
});

test('empty files and files without documents', async () => {
  for (const name of ['empty.txt', 'empty.jsonl', 'empty.parquet']) {
    const path = writeTemp(dir, name, '');
    await rejectsWith(readDocuments(path), path, /empty/);
  }
  const blank = writeTemp(dir, 'blank.txt', '\n \n\t\r\n\n');
  await rejectsWith(readDocuments(blank), blank, /no documents/);
  const blankJsonl = writeTemp(dir, 'blank.jsonl', '\n\n  \n');
  await rejectsWith(readDocuments(blankJsonl), blankJsonl, /no documents/);
});

test('plain text that is not UTF-8', async () => {
  const path = writeTemp(dir, 'latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
  await rejectsWith(readDocuments(path), path, /UTF-8/);
});

test('JSONL: bad JSON, missing field, wrong types, with line numbers', async () => {
  const bad = writeTemp(dir, 'bad.jsonl', '{"text": "ok"}\n\n{"text": "oops"\n');
  await rejectsWith(readDocuments(bad), bad, /line 3 /, /not valid JSON/);
  const noField = writeTemp(dir, 'nofield.jsonl', '{"text": "a"}\n{"text": "b"}\n{"body": "c"}\n');
  await rejectsWith(readDocuments(noField), noField, /line 3 /, /"text"/);
  await rejectsWith(readDocuments(noField, { textField: 'body' }), noField, /line 1 /, /"body"/);
  const notObject = writeTemp(dir, 'array.jsonl', '["text"]\n');
  await rejectsWith(readDocuments(notObject), notObject, /line 1 /, /not a JSON object/);
  const notString = writeTemp(dir, 'num.jsonl', '{"text": "a"}\n{"text": 42}\n');
  await rejectsWith(readDocuments(notString), notString, /line 2/, /number, not a string/);
  const nullText = writeTemp(dir, 'null.jsonl', '{"text": null}\n');
  await rejectsWith(readDocuments(nullText), nullText, /line 1/, /null/);
});

test('JSONL: maxDocs stops before a later bad line', async () => {
  const path = writeTemp(dir, 'late.jsonl', '{"text": "a"}\n{"text": "b"}\nnot json\n');
  assert.deepEqual((await readDocuments(path, { maxDocs: 2 })).docs, ['a', 'b']);
});

test('parquet: missing column lists the columns it has', async () => {
  const path = writeTemp(dir, 'cols.parquet', tinyParquet([
    { name: 'body', values: ['a', 'b'] },
    { name: 'meta', values: ['x', 'y'] },
  ]));
  await rejectsWith(readDocuments(path), path, /no column "text"/, /body, meta/);
});

test('C4 parquet: missing column lists text, url, timestamp', needsShared('data', 'pile_like', 'c4_validation_2k.parquet'), async () => {
  const path = sharedPath('data', 'pile_like', 'c4_validation_2k.parquet')!;
  await rejectsWith(readDocuments(path, { textField: 'body' }), path, /no column "body"/, /text, url, timestamp/);
});

test('parquet: null values in the text column', async () => {
  const path = writeTemp(dir, 'nulls.parquet', tinyParquet([{ name: 'text', values: ['a', null, 'c'] }]));
  await rejectsWith(readDocuments(path), path, /row 1/, /null/);
});

test('parquet: corrupt files', async () => {
  const good = tinyParquet([{ name: 'text', values: ['alpha', 'beta', 'gamma'] }]);
  const notParquet = writeTemp(dir, 'notparquet.parquet', 'just some text, no magic bytes\n');
  await rejectsWith(readDocuments(notParquet), notParquet, /parquet/);
  const truncated = writeTemp(dir, 'truncated.parquet', good.subarray(0, good.length - 20));
  await rejectsWith(readDocuments(truncated), truncated, /parquet/);
  // Intact footer, garbage where the page header should be.
  const damaged = Buffer.from(good);
  damaged.fill(0xff, 4, 16);
  const damagedPath = writeTemp(dir, 'damaged.parquet', damaged);
  await rejectsWith(readDocuments(damagedPath), damagedPath, /corrupt parquet/);
});

test('invalid maxDocs', async () => {
  const path = writeTemp(dir, 'ok.txt', 'a');
  await rejectsWith(readDocuments(path, { maxDocs: 0 }), path, /maxDocs/);
  await rejectsWith(readDocuments(path, { maxDocs: 1.5 }), path, /maxDocs/);
});
