/**
 * CSV of a figure table: RFC 4180 quoting, an empty cell for null. A text cell that a spreadsheet would
 * read as a formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading apostrophe, so
 * a name from a run folder such as `=HYPERLINK(…)` stays text (the OWASP advice for CSV injection).
 * Numbers are written as numbers, so negative values are unchanged.
 */
import type { FigureTable } from './types.js';

function cell(v: string | number | null): string {
  if (v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(t: FigureTable): string {
  return [t.columns, ...t.rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
