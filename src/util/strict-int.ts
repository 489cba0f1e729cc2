import { LayerlabError } from './errors.js';

/**
 * A decimal integer written plainly: digits only (no sign, hex, exponent, fraction, spaces inside or
 * empty text), at least `min`, and exactly representable. `Number()` would accept '0x1', '1e0', ' 1 '
 * and '' (as 0); a flag value must mean exactly what it says.
 */
export function parseStrictInt(text: string, flag: string, min = 0): number {
  const t = text.trim();
  const v = Number(t);
  if (!/^[0-9]+$/.test(t) || !Number.isSafeInteger(v) || v < min) {
    const want = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new LayerlabError(`${flag} must be ${want} written in decimal digits, got '${text}'`);
  }
  return v;
}
