import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes of each checkpoint file hashed in full: the safetensors header (8-byte length + JSON) sits here. */
const HEAD_BYTES = 1 << 20;

function head(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * A digest of what decides a model's numbers, cheap enough to take on every run: sha256 over config.json,
 * tokenizer.json and tokenizer_config.json (whole), and for every *.safetensors / index file its name, size,
 * modification time and first MiB (the header: names, dtypes, shapes, offsets). Rewriting weights changes
 * the modification time, so resumed state is never mixed across two versions of a checkpoint; hashing
 * every weight byte of a multi-GB model on each run would cost seconds to minutes.
 */
export function modelFingerprint(dir: string): string {
  const h = createHash('sha256');
  for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    const p = join(dir, name);
    h.update(`${name}\0`);
    if (existsSync(p)) h.update(readFileSync(p));
  }
  const weights = readdirSync(dir).filter((f) => f.endsWith('.safetensors') || f.endsWith('.safetensors.index.json')).sort();
  for (const name of weights) {
    const p = join(dir, name);
    const st = statSync(p);
    h.update(`${name}\0${st.size}\0${st.mtimeMs}\0`);
    h.update(head(p, Math.min(HEAD_BYTES, st.size)));
  }
  return h.digest('hex');
}
