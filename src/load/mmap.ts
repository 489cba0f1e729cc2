import { nativeAddon } from '../backend/addon.js';

/** Buffers that are memory maps of checkpoint files (as opposed to arrays layerlab allocated). */
const mapped = new WeakSet<ArrayBufferLike>();

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
  mapped.add(buf);
  return buf;
}

/** True when the array is a view into a memory-mapped checkpoint. */
export function isMapped(view: { buffer: ArrayBufferLike }): boolean {
  return mapped.has(view.buffer);
}

/**
 * Hands the pages under a mapped view back to the kernel (they stay in the page cache and fault back in if
 * read again). Used once a weight has been packed into another layout: its stored bytes stop counting
 * in this process's memory. A no-op for arrays that are not mapped.
 */
export function releaseMapped(view: Float32Array | Uint16Array): void {
  if (isMapped(view)) nativeAddon()?.releasePages(view);
}
