import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { LayerlabError } from '../util/errors.js';

/** Memory the kernel says a new allocation can get (MemAvailable), falling back to free memory. */
export function availableMemoryBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return freemem();
}

/**
 * Fails before loading when the float32 weights cannot fit: an early, explained error instead of an
 * out-of-memory kill halfway through reading shards.
 */
export function checkMemoryFor(bytes: number, dir: string, dtype: 'f32' | 'bf16' = 'f32'): void {
  const avail = availableMemoryBytes();
  if (bytes > avail * 0.95)
    throw new LayerlabError(
      `model needs ${(bytes / 2 ** 30).toFixed(1)} GiB as ${dtype === 'f32' ? 'float32' : 'bf16'} but only ${(avail / 2 ** 30).toFixed(1)} GiB of memory is available; use a smaller model${dtype === 'f32' ? ', --dtype bf16 (half the memory)' : ''} or a machine with more memory`,
      dir,
    );
}
