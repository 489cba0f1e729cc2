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
export function checkMemoryFor(f32Bytes: number, dir: string): void {
  const avail = availableMemoryBytes();
  if (f32Bytes > avail * 0.95)
    throw new LayerlabError(
      `model needs ${(f32Bytes / 2 ** 30).toFixed(1)} GiB as float32 but only ${(avail / 2 ** 30).toFixed(1)} GiB of memory is available; use a smaller model or a machine with more memory`,
      dir,
    );
}
