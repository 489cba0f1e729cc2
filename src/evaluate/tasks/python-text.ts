/**
 * The few Python string operations the harness's task code uses, with Python's semantics where they
 * differ from JavaScript's (whitespace set, `capitalize`, `.` in regular expressions).
 */

/** Characters for which Python's str.isspace() is true (what str.strip() removes). */
const PY_SPACE = '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function pyStrip(s: string): string {
  let a = 0, b = s.length;
  while (a < b && PY_SPACE.includes(s[a])) a++;
  while (b > a && PY_SPACE.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

/** Python's str.rstrip() (no argument). */
export function pyRstrip(s: string): string {
  let b = s.length;
  while (b > 0 && PY_SPACE.includes(s[b - 1])) b--;
  return s.slice(0, b);
}

/** Python's str.capitalize(): first character upper-cased, every other character lower-cased. */
export function pyCapitalize(s: string): string {
  const cps = Array.from(s);
  if (cps.length === 0) return s;
  return cps[0].toUpperCase() + cps.slice(1).join('').toLowerCase();
}

/** Python's len(): Unicode code points, not UTF-16 units or bytes. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
