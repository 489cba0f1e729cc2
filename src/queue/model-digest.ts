/**
 * The model digest a coordinator records (manifest `execution.model_digest`, each job's data) and every
 * worker compares with its own copy before running a job: sha256 over config.json and, for each
 * safetensors file (and shard index) in name order, its name, its header (the 8-byte length and the JSON
 * of names, dtypes, shapes and offsets) and 16 evenly spaced 4 KiB samples of its tensor bytes. The
 * header alone is the issue's definition; the samples make a fine-tune or a re-initialised copy with the
 * same shapes differ too, at a cost of 64 KiB read per file. Unlike src/load/fingerprint.ts (the resume
 * key), it uses no file times, so two machines' copies of the same files agree.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';

const SAMPLES = 16;
const SAMPLE_BYTES = 4096;
/** A safetensors header larger than this is not one (the format's own limit is 100 MB). */
const MAX_HEADER = 100_000_000;

function readAt(fd: number, pos: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  return buf.subarray(0, readSync(fd, buf, 0, n, pos));
}

function hashSafetensors(h: ReturnType<typeof createHash>, path: string): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBytes = readAt(fd, 0, 8);
    h.update(lenBytes);
    const headerLen = lenBytes.length === 8 ? Number(lenBytes.readBigUInt64LE(0)) : 0;
    const start = 8 + Math.min(headerLen, MAX_HEADER, Math.max(0, size - 8));
    h.update(readAt(fd, 8, start - 8));
    const data = size - start;
    for (let i = 0; i < SAMPLES && data > 0; i++) {
      const at = start + Math.floor((i * Math.max(0, data - SAMPLE_BYTES)) / Math.max(1, SAMPLES - 1));
      h.update(readAt(fd, at, Math.min(SAMPLE_BYTES, data)));
    }
  } finally {
    closeSync(fd);
  }
}

/** The digest of the model in `dir` (64 hex digits). */
export function modelDigest(dir: string): string {
  const h = createHash('sha256');
  const config = join(dir, 'config.json');
  h.update('config.json\0');
  if (existsSync(config)) h.update(readFileSync(config));
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.safetensors') || f.endsWith('.safetensors.index.json')).sort()) {
    h.update(`\0${name}\0`);
    if (name.endsWith('.json')) h.update(readFileSync(join(dir, name)));
    else hashSafetensors(h, join(dir, name));
  }
  return h.digest('hex');
}
