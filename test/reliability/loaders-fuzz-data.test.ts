// Fuzz: corpus files (plain text, JSONL, Parquet). Property: readDocuments raises a LayerlabError naming
// the file, or returns documents that are non-empty strings holding no U+FFFD the file did not contain
// (nothing decoded into garbage: bad bytes in Parquet strings are rejected too); a file that is not valid
// UTF-8 is never accepted as text or JSONL, and
// valid JSONL with a string "text" on every line is always accepted with exactly those strings.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readDocuments } from '../../src/data/documents.js';
import { tinyParquet } from '../data/helpers/tiny-parquet.js';
import { fuzzSettings, HOSTILE_VALUES, isLayerlabErrorNaming, tempRoot } from './loaders-helpers.js';

const root = tempRoot(after, 'fuzz-data');
const DOCS = ['The quick brown fox.', 'Ünïcödé – 漢字 and 🎉 emoji', 'line one\nline two', '  spaced  ', 'x'];

const isUtf8 = (b: Uint8Array) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};

/** Byte-level damage: flips, truncation, inserted invalid UTF-8, inserted NUL/newlines. */
const damage: fc.Arbitrary<(b: Buffer) => Buffer> = fc.oneof(
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }).map((flips) => (b: Buffer) => {
    const c = Buffer.from(b);
    for (const [p, v] of flips) if (c.length) c[p % c.length] = v;
    return c;
  }),
  fc.nat().map((k) => (b: Buffer) => b.subarray(0, k % (b.length + 1))),
  fc.tuple(fc.nat(), fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x9f], [0x00], [0x0a], [0x0d, 0x0a], [0xef, 0xbb, 0xbf])).map(([p, ins]) => (b: Buffer) => {
    const at = b.length ? p % b.length : 0;
    return Buffer.concat([b.subarray(0, at), Buffer.from(ins), b.subarray(at)]);
  }),
);

async function check(path: string, bytes: Buffer, format: 'text' | 'jsonl' | 'parquet'): Promise<'ok' | 'rejected'> {
  writeFileSync(path, bytes);
  try {
    const set = await readDocuments(path, { textField: 'text' });
    assert.equal(set.format, format);
    assert.ok(set.docs.length > 0);
    const hadReplacement = bytes.includes(Buffer.from('\uFFFD'));
    for (const d of set.docs) {
      assert.equal(typeof d, 'string');
      if (format !== 'parquet') assert.ok(d.length > 0 || format === 'jsonl');
      if (!hadReplacement) assert.ok(!d.includes('\uFFFD'), `U+FFFD in ${JSON.stringify(d)}`);
    }
    if (format !== 'parquet') assert.ok(isUtf8(bytes), 'accepted a file that is not UTF-8');
    return 'ok';
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    isLayerlabErrorNaming(e, path);
    return 'rejected';
  }
}

test('fuzz plain-text corpora: documents or a LayerlabError naming the file', async () => {
  const base = Buffer.from(DOCS.join('\n\n') + '\n');
  const path = join(root, 'fuzz.txt');
  const seen = { ok: 0, rejected: 0 };
  await fc.assert(fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 3 }), async (ds) => {
    seen[await check(path, ds.reduce<Buffer>((b, d) => d(b), base), 'text')]++;
  }), fuzzSettings(300));
  assert.ok(seen.ok > 30 && seen.rejected > 30, JSON.stringify(seen));
});

test('fuzz JSONL corpora: damaged bytes and hostile fields give documents or a LayerlabError naming the file', async () => {
  const path = join(root, 'fuzz.jsonl');
  const seen = { ok: 0, rejected: 0 };
  const line = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...DOCS).map((text) => ({ text })) },
    fc.constantFrom(...HOSTILE_VALUES).map((text) => ({ text })),
    fc.constantFrom(...HOSTILE_VALUES),
    fc.constant({ other: 'no text field' }),
  );
  await fc.assert(fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 6 }), fc.array(damage, { maxLength: 2 }), async (lines, ds) => {
    const base = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const bytes = ds.reduce<Buffer>((b, d) => d(b), base);
    const outcome = await check(path, bytes, 'jsonl');
    seen[outcome]++;
    // Undamaged lines that all hold a string "text" must be read, exactly.
    if (ds.length === 0 && lines.every((l) => typeof (l as any)?.text === 'string')) {
      assert.equal(outcome, 'ok');
      assert.deepEqual((await readDocuments(path)).docs, lines.map((l) => (l as any).text));
    }
  }), fuzzSettings(300));
  assert.ok(seen.ok > 20 && seen.rejected > 30, JSON.stringify(seen));
});

test('fuzz Parquet corpora: documents or a LayerlabError naming the file', async () => {
  const base = tinyParquet([{ name: 'text', values: DOCS }, { name: 'id', values: DOCS.map((_, i) => `doc${i}`) }]);
  const path = join(root, 'fuzz.parquet');
  const seen = { ok: 0, rejected: 0 };
  await fc.assert(fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 2 }), async (ds) => {
    seen[await check(path, ds.reduce<Buffer>((b, d) => d(b), Buffer.from(base)), 'parquet')]++;
  }), fuzzSettings(300));
  assert.ok(seen.ok > 10 && seen.rejected > 30, JSON.stringify(seen));
});
