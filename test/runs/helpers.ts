import assert from 'node:assert/strict';

/** Asserts two result values are equal, numbers within `rel` relative (paths name the first difference). */
export function assertClose(a: unknown, b: unknown, rel: number, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    const tol = rel * Math.max(Math.abs(a), Math.abs(b)) + 1e-300;
    assert.ok(Math.abs(a - b) <= tol || (Number.isNaN(a) && Number.isNaN(b)), `${path}: ${a} vs ${b}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: length`);
    a.forEach((x, i) => assertClose(x, b[i], rel, `${path}[${i}]`));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${path}: keys`);
    for (const k of Object.keys(a)) assertClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], rel, `${path}.${k}`);
    return;
  }
  assert.deepEqual(a, b, path);
}

/** A seeded permutation of 0..n-1. */
export function shuffledOrder(seed: number): (n: number) => number[] {
  return (n) => {
    const o = Array.from({ length: n }, (_, i) => i);
    let s = seed >>> 0;
    for (let i = n - 1; i > 0; i--) {
      s = (s * 1664525 + 1013904223) >>> 0;
      const j = s % (i + 1);
      [o[i], o[j]] = [o[j], o[i]];
    }
    return o;
  };
}

export const reversedOrder = (n: number) => Array.from({ length: n }, (_, i) => n - 1 - i);
