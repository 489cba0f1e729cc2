// Fuzz: safetensors. Property: opening and reading every tensor either raises a LayerlabError naming the
// file, or returns exactly what an independent strict reference reader (the rules of the format's Rust
// crate, written out below) decodes from the same bytes; the two agree on which files are valid. A model
// whose checkpoint is fuzzed either loads and gives finite logits, or fails with a LayerlabError naming it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SafetensorsFile, writeSafetensors } from '../../src/load/safetensors.js';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { LayerlabError } from '../../src/util/errors.js';
import { copyFixture, fuzzSettings, HOSTILE_VALUES, isLayerlabErrorNaming, tempRoot } from './loaders-helpers.js';

const root = tempRoot(after, 'fuzz-st');

const DTYPE_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8, F8_E4M3: 1, F8_E5M2: 1 };

interface RefTensor { dtype: string; shape: number[]; bytes: Buffer }

/** The reference rules: crate `safetensors`, `SafeTensors::read_metadata` + `Metadata::validate`. */
function referenceRead(buf: Buffer): Map<string, RefTensor> | undefined {
  if (buf.length < 8) return undefined;
  const n = Number(buf.readBigUInt64LE(0));
  if (n > 100_000_000 || 8 + n > buf.length) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n));
  } catch {
    return undefined;
  }
  if (!text.startsWith('{')) return undefined;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text);
  } catch {
    return undefined;
  }
  const usize = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const infos: [string, RefTensor & { s: number; e: number }][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v as object).every((x) => typeof x === 'string')) return undefined;
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const t = v as Record<string, unknown>;
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_SIZE)) return undefined;
    if (!Array.isArray(t.shape) || !t.shape.every(usize)) return undefined;
    const o = t.data_offsets;
    if (!Array.isArray(o) || o.length !== 2 || !o.every(usize)) return undefined;
    infos.push([name, { dtype: t.dtype, shape: t.shape as number[], s: o[0] as number, e: o[1] as number, bytes: Buffer.alloc(0) }]);
  }
  infos.sort((a, b) => a[1].s - b[1].s || a[1].e - b[1].e);
  let start = 0;
  for (const [, t] of infos) {
    if (t.s !== start || t.e < t.s) return undefined;
    start = t.e;
    const nbytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[t.dtype];
    if (!Number.isSafeInteger(nbytes) || t.e - t.s !== nbytes) return undefined;
  }
  if (start + 8 + n !== buf.length) return undefined;
  return new Map(infos.map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, bytes: buf.subarray(8 + n + t.s, 8 + n + t.e) }]));
}

function f16(h: number): number {
  const e = (h >> 10) & 31, m = h & 1023, s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Float32 values the reference decodes (F32 as is, F16/BF16 widened). */
function referenceFloats(t: RefTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (t.dtype === 'F32') new Uint32Array(out.buffer)[i] = t.bytes.readUInt32LE(4 * i);
    else if (t.dtype === 'F16') out[i] = f16(t.bytes.readUInt16LE(2 * i));
    else if (t.dtype === 'BF16') out[i] = new Float32Array(Uint32Array.of(t.bytes.readUInt16LE(2 * i) << 16).buffer)[0];
    else if (t.dtype === 'F64') out[i] = t.bytes.readDoubleLE(8 * i);
  }
  return out;
}

/** Equal bit for bit, except that any NaN matches any NaN (JS numbers do not keep NaN payloads). */
function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

const basePath = join(root, 'base.safetensors');
writeSafetensors(basePath, {
  w: { dtype: 'F32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5) },
  b: { dtype: 'F32', shape: [4], data: Float32Array.from([1, -2, 3.5, 1e-3]) },
  ids: { dtype: 'I64', shape: [2], data: BigInt64Array.from([7n, -1n]) },
  empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
}, { format: 'pt', note: 'fuzz base' });
// A half-precision tensor too, appended by hand (the writer writes only F32/I64/I32).
const BASE = (() => {
  const buf = readFileSync(basePath);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  const data = buf.subarray(8 + n);
  header.h = { dtype: 'BF16', shape: [2, 2], data_offsets: [data.length, data.length + 8] };
  header.g = { dtype: 'F16', shape: [3], data_offsets: [data.length + 8, data.length + 14] };
  return encode(header, Buffer.concat([data, Buffer.from([0x80, 0x3f, 0x00, 0x40, 0x40, 0xc0, 0x00, 0x00, 0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b])]));
})();

function encode(header: unknown, data: Buffer): Buffer {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), data]);
}

function split(buf: Buffer): { n: number; header: Record<string, any>; data: Buffer } {
  const n = Number(buf.readBigUInt64LE(0));
  return { n, header: JSON.parse(buf.subarray(8, 8 + n).toString()), data: buf.subarray(8 + n) };
}

type Mutation = (b: Buffer) => Buffer;
const TENSORS = ['w', 'b', 'ids', 'empty', 'h', 'g', '__metadata__', 'new'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // byte flips anywhere, or in the length prefix and header only
  fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([inHeader, flips]) => (b: Buffer) => {
    const c = Buffer.from(b);
    const span = inHeader && c.length >= 8 ? Math.min(c.length, 8 + Number(c.readBigUInt64LE(0) % 100000n)) : c.length;
    for (const [p, v] of flips) if (span > 0) c[p % span] = v;
    return c;
  }),
  // byte flips in the data section only: the file stays valid and values must follow the bytes
  { weight: 4, arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((flips) => (b: Buffer) => {
    if (b.length < 8) return b;
    const c = Buffer.from(b), start = 8 + Number(c.readBigUInt64LE(0) % 100000n);
    for (const [p, v] of flips) if (c.length > start) c[start + (p % (c.length - start))] = v;
    return c;
  }) },
  fc.nat().map((k) => (b: Buffer) => b.subarray(0, k % (b.length + 1))),
  fc.integer({ min: -16, max: 16 }).filter((k) => k !== 0).map((k) => (b: Buffer) => {
    if (b.length < 8) return b;
    const c = Buffer.from(b);
    c.writeBigUInt64LE(BigInt(Math.max(0, Number(c.readBigUInt64LE(0)) + k)));
    return c;
  }),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((extra) => (b: Buffer) => Buffer.concat([b, extra])),
  // header edits: a field of a tensor set to a hostile value or deleted, a tensor deleted, offsets shifted
  fc.tuple(fc.constantFrom(...TENSORS), fc.constantFrom('dtype', 'shape', 'data_offsets', 'format', '(delete)'), fc.constantFrom(...HOSTILE_VALUES, 'BF16', 'F16', 'I64', 'U8', 'F33', [0, 8], [8, 0], [12, 36], [2, 2, 0]), fc.boolean())
    .map(([name, field, value, del]) => (b: Buffer) => {
      try {
        const { header, data } = split(b);
        if (field === '(delete)') delete header[name];
        else {
          header[name] = typeof header[name] === 'object' && header[name] !== null ? header[name] : {};
          if (del) delete header[name][field];
          else header[name][field] = value;
        }
        return encode(header, data);
      } catch {
        return b;
      }
    }),
  fc.integer({ min: -9, max: 9 }).map((k) => (b: Buffer) => {
    try {
      const { header, data } = split(b);
      for (const [name, t] of Object.entries(header)) if (name !== '__metadata__') (t as any).data_offsets = (t as any).data_offsets.map((o: number) => o + k);
      return encode(header, data);
    } catch {
      return b;
    }
  }),
);

test('fuzz safetensors: LayerlabError naming the file, or exactly the reference decoding', () => {
  const path = join(root, 'fuzz.safetensors');
  let accepted = 0, rejected = 0;
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (muts) => {
      const buf = muts.reduce((b, m) => m(b), BASE);
      writeFileSync(path, buf);
      const ref = referenceRead(buf);
      let file: SafetensorsFile;
      try {
        file = SafetensorsFile.open(path);
      } catch (e) {
        isLayerlabErrorNaming(e, path);
        assert.equal(ref, undefined, `the reference accepts what we reject: ${(e as Error).message}`);
        rejected++;
        return;
      }
      try {
        assert.ok(ref, 'we accept what the reference rejects');
        assert.deepEqual([...file.entries.keys()].sort(), [...ref.keys()].sort());
        for (const [name, t] of ref) {
          const e = file.entry(name);
          assert.equal(e.dtype, t.dtype);
          assert.deepEqual(e.shape, t.shape);
          if (['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) assert.ok(sameValues(file.readF32(name), referenceFloats(t)), `values of '${name}'`);
          else if (t.dtype === 'I64') assert.deepEqual(file.readInts(name), Array.from({ length: t.bytes.length / 8 }, (_, i) => Number(t.bytes.readBigInt64LE(8 * i))));
          else assert.throws(() => file.readF32(name), LayerlabError);
        }
        accepted++;
      } finally {
        file.close();
      }
    }),
    fuzzSettings(400),
  );
  // The mutations must exercise both outcomes, or the property says little.
  assert.ok(accepted > 40 && rejected > 100, `accepted ${accepted}, rejected ${rejected}`);
});

test('fuzz a model checkpoint: loads with finite logits, or a LayerlabError naming the model', () => {
  const dir = copyFixture(root, 'llama', 'fuzz-model');
  const path = join(dir, 'model.safetensors');
  const original = readFileSync(path);
  const headerEnd = 8 + Number(original.readBigUInt64LE(0));
  let finite = 0, rejected = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()), { minLength: 1, maxLength: 6 }), (flips) => {
      const buf = Buffer.from(original);
      // Half the flips land in the data (weights), half in the header.
      for (const [p, v, inData] of flips) buf[inData ? headerEnd + (p % (buf.length - headerEnd)) : p % headerEnd] = v;
      writeFileSync(path, buf);
      try {
        const model = loadModelDir(dir);
        const logits = forward(model, [[1, 17, 40, 99, 3, 64]]).logits!.data;
        assert.ok(logits.every(Number.isFinite), 'non-finite logits returned silently');
        finite++;
      } catch (e) {
        isLayerlabErrorNaming(e, dir);
        rejected++;
      }
    }),
    fuzzSettings(150),
  );
  assert.ok(finite > 5 && rejected > 5, `finite ${finite}, rejected ${rejected}`);
});
