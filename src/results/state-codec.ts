/**
 * Compact binary encoding of job payloads and accumulator states (what issue 11 ships through the
 * queue): the JSON skeleton of a value, with every typed array (CKA Gram sums, probe features, pending
 * residual vectors, token windows) moved out of the JSON into raw little-endian bytes. Exact: a decoded
 * value equals the encoded one bit for bit. Carries no paths or other machine-specific data by itself.
 *
 * Layout: "LLS1" | u32 JSON byte length | JSON (UTF-8) | zero padding to 8 | per array: u8 kind, 7 pad
 * bytes, f64 byte length, the bytes, zero padding to 8.
 */
const MAGIC = 0x31534c4c; // "LLS1" little-endian
const KINDS = [Float64Array, Float32Array, Int32Array, Uint8Array] as const;
type Typed = Float64Array | Float32Array | Int32Array | Uint8Array;

const pad8 = (n: number) => (8 - (n % 8)) % 8;

export function encodeState(value: unknown): Uint8Array {
  const arrays: Typed[] = [];
  const json = JSON.stringify(value, (_k, v) => {
    for (let kind = 0; kind < KINDS.length; kind++)
      if (v instanceof KINDS[kind]) {
        arrays.push(v as Typed);
        return { $bin: arrays.length - 1, kind };
      }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
    return v;
  });
  const text = Buffer.from(json, 'utf8');
  let size = 8 + text.length + pad8(text.length);
  for (const a of arrays) size += 16 + a.byteLength + pad8(a.byteLength);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, text.length, true);
  out.set(text, 8);
  let at = 8 + text.length + pad8(text.length);
  for (const a of arrays) {
    view.setUint8(at, KINDS.findIndex((K) => a instanceof K));
    view.setFloat64(at + 8, a.byteLength, true);
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at + 16);
    at += 16 + a.byteLength + pad8(a.byteLength);
  }
  return out;
}

export function decodeState<T = unknown>(bytes: Uint8Array): T {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8 || view.getUint32(0, true) !== MAGIC) throw new Error('decodeState: not a layerlab state (bad magic)');
  const n = view.getUint32(4, true);
  if (8 + n > bytes.byteLength) throw new Error('decodeState: truncated');
  const json = Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8');
  const arrays: Typed[] = [];
  let at = 8 + n + pad8(n);
  while (at < bytes.byteLength) {
    if (at + 16 > bytes.byteLength) throw new Error('decodeState: truncated array header');
    const K = KINDS[view.getUint8(at)];
    const len = view.getFloat64(at + 8, true);
    if (!K || !Number.isInteger(len) || at + 16 + len > bytes.byteLength) throw new Error('decodeState: bad array');
    const copy = new Uint8Array(len);
    copy.set(bytes.subarray(at + 16, at + 16 + len));
    arrays.push(new K(copy.buffer));
    at += 16 + len + pad8(len);
  }
  return JSON.parse(json, (_k, v) => {
    if (v && typeof v === 'object' && typeof v.$bin === 'number') {
      const a = arrays[v.$bin];
      if (!a) throw new Error('decodeState: missing array');
      return a;
    }
    if (v && typeof v === 'object' && typeof v.$num === 'string' && Object.keys(v).length === 1) return Number(v.$num);
    return v;
  }) as T;
}
