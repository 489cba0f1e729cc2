import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { LayerlabError } from '../util/errors.js';
import { bf16ToF32, f16ToF32 } from './dtype.js';
import { mapFile } from './mmap.js';

export type StoredDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'F64' | 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'U32' | 'U64' | 'F8_E4M3' | 'F8_E5M2';

/** Every dtype the reference format defines (so any valid file opens); only floats are read as weights. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8, F8_E4M3: 1, F8_E5M2: 1,
};
/** Headers larger than this are rejected before allocation (the format's own limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/**
 * A safetensors file opened for random access. The header is validated up front (sizes, offsets,
 * overlaps, file length), so a damaged file fails at open with its name and the problem. Tensor data is
 * read one tensor at a time straight into its destination array: loading never holds the file twice.
 */
export class SafetensorsFile {
  readonly entries = new Map<string, TensorEntry>();
  readonly metadata: Record<string, string> = {};

  private constructor(readonly path: string, private readonly fd: number, readonly fileSize: number) {}

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new LayerlabError(`cannot open safetensors file (${(e as NodeJS.ErrnoException).code ?? e})`, path);
    }
    const file = new SafetensorsFile(path, fd, fstatSync(fd).size);
    try {
      file.parseHeader();
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return file;
  }

  private fail(message: string): never {
    throw new LayerlabError(`not a valid safetensors file: ${message}`, this.path);
  }

  /**
   * Validates the header as the format's reference parser (the `safetensors` crate) does: a UTF-8 JSON
   * object starting with '{'; known dtypes; integer shapes and offsets; each tensor's byte span equal to
   * product(shape) * dtype size; and the tensors, sorted by offset, tiling the data section exactly — it
   * starts at 8 + header length, has no gaps or overlaps, and ends at the end of the file. A header length
   * off by a few bytes therefore fails here instead of shifting every tensor.
   */
  private parseHeader(): void {
    if (this.fileSize < 8) this.fail(`file is ${this.fileSize} bytes, shorter than the 8-byte header length`);
    const lenBuf = Buffer.alloc(8);
    readSync(this.fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES) this.fail(`header length ${headerLen} is implausibly large`);
    if (8 + headerLen > this.fileSize) this.fail(`header of ${headerLen} bytes runs past the end of the file (${this.fileSize} bytes): truncated?`);
    const headerBuf = Buffer.alloc(headerLen);
    readSync(this.fd, headerBuf, 0, headerLen, 8);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(headerBuf);
    } catch {
      this.fail('header is not valid UTF-8');
    }
    if (!text.startsWith('{')) this.fail(`header does not start with '{' (header length ${headerLen} wrong?)`);
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (e) {
      this.fail(`header is not JSON (${(e as Error).message}; header length ${headerLen} wrong?)`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) this.fail('header is not a JSON object');
    const dataStart = 8 + headerLen;
    const spans: TensorEntry[] = [];
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        this.parseMetadata(raw);
        continue;
      }
      const entry = this.parseEntry(name, raw, dataStart);
      this.entries.set(name, entry);
      spans.push(entry);
    }
    spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
    let at = dataStart;
    for (const e of spans) {
      if (e.begin < at) this.fail(`tensor '${e.name}' overlaps the tensor before it (starts at data byte ${e.begin - dataStart}, previous ends at ${at - dataStart})`);
      if (e.begin > at) this.fail(`gap of ${e.begin - at} bytes before tensor '${e.name}' (data byte ${at - dataStart}); tensors must cover the data section exactly`);
      at = e.end;
    }
    if (at > this.fileSize) this.fail(`tensors need ${at} bytes but the file has ${this.fileSize}: truncated?`);
    if (at < this.fileSize) this.fail(`${this.fileSize - at} bytes after the last tensor are covered by no tensor (header length or offsets wrong?)`);
  }

  private parseMetadata(raw: unknown): void {
    if (raw === null) return; // the reference reads null as no metadata
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) this.fail('__metadata__ must be an object of strings');
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string') this.fail(`__metadata__ value '${k}' must be a string, got ${JSON.stringify(v)}`);
      this.metadata[k] = v;
    }
  }

  private parseEntry(name: string, raw: unknown, dataStart: number): TensorEntry {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) this.fail(`tensor '${name}' is not described by an object`);
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, info.dtype)) this.fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(info.dtype)}`);
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) this.fail(`tensor '${name}' has an invalid shape ${JSON.stringify(info.shape)}`);
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[1] < offs[0])
      this.fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    const shape = info.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = count * DTYPE_BYTES[info.dtype];
    if (!Number.isSafeInteger(bytes)) this.fail(`tensor '${name}' has shape ${JSON.stringify(shape)}, too large to exist`);
    const [b0, b1] = offs as number[];
    if (b1 - b0 !== bytes) this.fail(`tensor '${name}' spans ${b1 - b0} bytes but ${info.dtype}${JSON.stringify(shape)} needs ${bytes}`);
    if (dataStart + b1 > this.fileSize) this.fail(`tensor '${name}' points past the end of the file (needs byte ${dataStart + b1}, file has ${this.fileSize}): truncated?`);
    return { name, dtype: info.dtype as StoredDtype, shape, begin: dataStart + b0, end: dataStart + b1 };
  }

  private readBytes(entry: TensorEntry, target: Uint8Array): void {
    let done = 0;
    const total = entry.end - entry.begin;
    while (done < total) {
      const n = readSync(this.fd, target, done, Math.min(total - done, 1 << 30), entry.begin + done);
      if (n === 0) this.fail(`unexpected end of file while reading '${entry.name}'`);
      done += n;
    }
  }

  entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new LayerlabError(`no tensor named '${name}'`, this.path);
    return e;
  }

  /** Reads a floating tensor as float32 (F16/BF16/F64 converted). */
  readF32(name: string): Float32Array {
    const e = this.entry(name);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(count);
    if (e.dtype === 'F32') {
      this.readBytes(e, new Uint8Array(out.buffer));
    } else if (e.dtype === 'F16' || e.dtype === 'BF16') {
      const half = new Uint16Array(count);
      this.readBytes(e, new Uint8Array(half.buffer));
      (e.dtype === 'F16' ? f16ToF32 : bf16ToF32)(half, out);
    } else if (e.dtype === 'F64') {
      const wide = new Float64Array(count);
      this.readBytes(e, new Uint8Array(wide.buffer));
      out.set(wide);
    } else {
      throw new LayerlabError(`tensor '${name}' is ${e.dtype}, not a floating type`, this.path);
    }
    return out;
  }

  /** Reads a float32 tensor straight into dst (which must have exactly its element count). */
  readInto(name: string, dst: Float32Array): void {
    const e = this.entry(name);
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (dst.length !== count) throw new Error(`readInto '${name}': destination holds ${dst.length}, tensor ${count}`);
    if (e.dtype === 'F32') this.readBytes(e, new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength));
    else dst.set(this.readF32(name));
  }

  /** Reads an integer tensor (I64/I32) as plain numbers. */
  readInts(name: string): number[] {
    const e = this.entry(name);
    const bytes = new Uint8Array(e.end - e.begin);
    this.readBytes(e, bytes);
    if (e.dtype === 'I64') return Array.from(new BigInt64Array(bytes.buffer), Number);
    if (e.dtype === 'I32') return Array.from(new Int32Array(bytes.buffer));
    throw new LayerlabError(`tensor '${name}' is ${e.dtype}, not an integer type`, this.path);
  }

  private map?: ArrayBuffer | null;

  /**
   * A F32 or BF16 tensor as stored: a zero-copy view (Float32Array, or Uint16Array of bf16 bits) into the
   * memory-mapped file. Undefined for other dtypes, for data not aligned to its element size, and where
   * mapping is unavailable; callers then read a copy.
   */
  storedView(name: string): Float32Array | Uint16Array | undefined {
    const e = this.entry(name);
    if (e.dtype !== 'F32' && e.dtype !== 'BF16') return undefined;
    const size = e.dtype === 'F32' ? 4 : 2;
    if (e.begin % size !== 0) return undefined;
    if (this.map === undefined) this.map = mapFile(this.path) ?? null;
    if (!this.map || this.map.byteLength !== this.fileSize) return undefined;
    const count = (e.end - e.begin) / size;
    return e.dtype === 'F32' ? new Float32Array(this.map, e.begin, count) : new Uint16Array(this.map, e.begin, count);
  }

  /** Reads a BF16 tensor's bit patterns (a copy). */
  readBf16Bits(name: string): Uint16Array {
    const e = this.entry(name);
    if (e.dtype !== 'BF16') throw new LayerlabError(`tensor '${name}' is ${e.dtype}, not BF16`, this.path);
    const out = new Uint16Array((e.end - e.begin) / 2);
    this.readBytes(e, new Uint8Array(out.buffer));
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface TensorToWrite {
  dtype: 'F32' | 'I64' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

/** Writes tensors as one safetensors file (header padded to 8 bytes, as the reference writer does). */
export function writeSafetensors(path: string, tensors: Record<string, TensorToWrite>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (bytes.length !== expected) throw new Error(`tensor '${name}': ${bytes.length} bytes for shape ${JSON.stringify(t.shape)}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  // Written part by part: large outputs (logits) are never concatenated into one more copy.
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, Buffer.from(json));
    for (const part of parts) for (let o = 0; o < part.length; o += 1 << 30) writeSync(fd, part, o, Math.min(1 << 30, part.length - o));
  } finally {
    closeSync(fd);
  }
}
