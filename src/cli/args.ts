import { LayerlabError } from '../util/errors.js';
import { parseStrictInt } from '../util/strict-int.js';
import { SIGMAS, type Sigma } from '../stats/stat.js';

/*
 * Every flag value the CLI parses goes through here, so one rule holds everywhere: numbers are plain
 * decimal integers, lists have no empty items, and duplicates are refused where they mean nothing.
 */

export { parseStrictInt };

export function parsePositiveInt(text: string, flag: string): number {
  return parseStrictInt(text, flag, 1);
}

/**
 * A comma-separated list: items trimmed, none empty ('a,,b' and 'a,' are mistakes, not shorthand), the
 * list itself not empty; `unique` refuses an item given twice.
 */
export function parseList(text: string, flag: string, opts: { unique?: boolean } = {}): string[] {
  if (text.trim() === '') throw new LayerlabError(`${flag} is empty; give a comma-separated list`);
  const items = text.split(',').map((s) => s.trim());
  const empty = items.findIndex((s) => s === '');
  if (empty >= 0) throw new LayerlabError(`${flag}: item ${empty + 1} of '${text}' is empty`);
  if (opts.unique) {
    const dup = items.find((s, i) => items.indexOf(s) !== i);
    if (dup !== undefined) throw new LayerlabError(`${flag}: '${dup}' is given twice in '${text}'`);
  }
  return items;
}

/** Positive integers, e.g. --repeat-blocks 3,5 (duplicates refused: they would repeat identical work). */
export function parsePositiveIntList(text: string, flag: string): number[] {
  const values = parseList(text, flag).map((s) => parsePositiveInt(s, flag));
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) throw new LayerlabError(`${flag}: ${dup} is given twice in '${text}'`);
  return values;
}

/** A parsed --plan checked against the model: the message names the flag, not just the plan. */
export function checkPlanBlocks(plan: number[] | undefined, layers: number, flag = '--plan'): void {
  const bad = plan?.find((b) => b >= layers);
  if (bad !== undefined) throw new LayerlabError(`${flag} ${plan!.join(',')} names block ${bad}, but the model has blocks 0..${layers - 1}`);
}

/** A plain decimal number such as 2 or 1.5 (no sign, exponent, hex, Infinity or NaN). */
export function parseDecimal(text: string, flag: string): number {
  const t = text.trim();
  if (!/^[0-9]+(\.[0-9]+)?$/.test(t)) throw new LayerlabError(`${flag} must be a decimal number such as 2 or 1.5, got '${text}'`);
  return Number(t);
}

/**
 * Block indices in execution order, "0,2,1,3"; '' or '[]' is the empty plan. Repeats are allowed (a
 * plan may run a block twice), empty items are not: '0,1,' is a mistake, not block 0 twice.
 */
export function parsePlanList(text: string, flag = '--plan'): number[] {
  if (text.trim() === '' || text.trim() === '[]') return [];
  return parseList(text, flag).map((s) => parseStrictInt(s, flag, 0));
}

/** A --sigma value, strictly: sem or std (src/stats/stat.ts says what each band shows). */
export function parseSigma(text: string, flag = '--sigma'): Sigma {
  if ((SIGMAS as readonly string[]).includes(text)) return text as Sigma;
  throw new LayerlabError(`${flag} must be sem or std, got '${text}'`);
}
