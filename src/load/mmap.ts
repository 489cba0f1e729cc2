import { openSync, readSync } from 'node:fs';
import { nativeAddon } from '../backend/addon.js';

/** Buffers that are memory maps of checkpoint files (as opposed to arrays layerlab allocated), by file. */
const mapped = new WeakMap<ArrayBufferLike, string>();
/** Read-only descriptors for row reads, one per mapped file, open for the life of the process. */
const fds = new Map<string, number>();

/**
 * The whole file as a private, read-mostly memory map (an ArrayBuffer the addon unmaps when it is
 * collected), so tensors used as stored are views into the page cache that several processes share.
 * Undefined without the native addon or with LAYERLAB_MMAP=0; callers then read with read(2).
 */
export function mapFile(path: string): ArrayBuffer | undefined {
  if (process.env.LAYERLAB_MMAP === '0') return undefined;
  const addon = nativeAddon();
  if (!addon) return undefined;
  const buf = addon.mapFile(path);
  mapped.set(buf, path);
  return buf;
}

/** True when the array is a view into a memory-mapped checkpoint. */
export function isMapped(view: { buffer: ArrayBufferLike }): boolean {
  return mapped.has(view.buffer);
}

/**
 * Copies elements [start, start + count) of a mapped view into `into` with pread instead of touching the
 * map. An embedding lookup reads a few scattered rows; through the map each fault pulls a whole large
 * page-cache folio into this process (Linux 6.x maps ~0.5 MB per row: 128 lookups cost 80 MB of RSS).
 * False when the view is not mapped (the caller copies from the array).
 */
export function readMapped(view: Float32Array | Uint16Array, start: number, count: number, into: Uint8Array): boolean {
  const path = mapped.get(view.buffer);
  if (path === undefined) return false;
  let fd = fds.get(path);
  if (fd === undefined) fds.set(path, (fd = openSync(path, 'r')));
  const size = view.BYTES_PER_ELEMENT, bytes = count * size;
  let done = 0;
  while (done < bytes) {
    const n = readSync(fd, into, done, bytes - done, view.byteOffset + start * size + done);
    if (n === 0) throw new Error(`${path}: unexpected end of file`);
    done += n;
  }
  return true;
}

/**
 * Hands the pages under a mapped view back to the kernel (they stay in the page cache and fault back in if
 * read again). Used once a weight has been packed into another layout: its stored bytes stop counting
 * in this process's memory. A no-op for arrays that are not mapped.
 */
export function releaseMapped(view: Float32Array | Uint16Array): void {
  if (isMapped(view)) nativeAddon()?.releasePages(view);
}
