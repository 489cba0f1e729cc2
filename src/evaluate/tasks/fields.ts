/** Typed field access for task records; a wrong field is reported by name (the caller adds file and line). */
export function stringField(r: Record<string, unknown>, key: string): string {
  const v = r[key];
  if (typeof v !== 'string') throw new Error(`field "${key}" must be a string`);
  return v;
}

export function stringList(r: Record<string, unknown>, key: string): string[] {
  const v = r[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) throw new Error(`field "${key}" must be a non-empty list of strings`);
  return v as string[];
}

/** An integer index given as a number or a string of digits (HF hellaswag's "label" is "0".."3"). */
export function indexField(r: Record<string, unknown>, key: string, size: number): number {
  const v = r[key];
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= size) throw new Error(`field "${key}" must be an index 0..${size - 1}, got ${JSON.stringify(v)}`);
  return n;
}
