/**
 * Interventions as layer plans (paper-spec §3). A plan is the list of blocks executed, in order; every
 * intervention is one plan:
 * - `delete`   : delete(l) for l = 0..L-1, plan [0..l-1, l+1..L-1] (skip block l; its residual passes through);
 * - `swap`     : swap(l, l+1) for l = 0..L-2, plan [0..l-1, l+1, l, l+2..L-1];
 * - `repeat:K` : for every start s = 0..L-K, blocks s..s+K-1 each run twice in a row
 *                (K = 3 at s = 5: ...4,5,5,6,6,7,7,8...; paper §5.4, "interleaved" duplication);
 * - `plan:0,1,3,2` : any custom block list (blocks may be omitted or repeated; `plan:` alone is the empty plan).
 *
 * `kind` and `layer` (the first block touched) label the rows of metrics.json.
 */
import type { InterventionKind } from '../results/schema.js';
import { LayerlabError } from '../util/errors.js';
import { parseStrictInt } from '../util/strict-int.js';

export interface Intervention {
  kind: InterventionKind;
  /** First block touched: the deleted block, the first of the swapped pair, the first repeated block; for a custom plan the first slot where it departs from 0..L-1 (-1 for the identity plan). */
  layer: number;
  plan: number[];
  /** Short label, e.g. delete_3, swap_0, repeat3_5, plan_0-1-3-2. */
  name: string;
}

/** A parsed `--interventions` entry. */
export type InterventionSpec = { kind: 'delete' } | { kind: 'swap' } | { kind: 'repeat'; k: number } | { kind: 'plan'; plan: number[] };

export function specToString(s: InterventionSpec): string {
  if (s.kind === 'repeat') return `repeat:${s.k}`;
  if (s.kind === 'plan') return `plan:${s.plan.join(',')}`;
  return s.kind;
}

/**
 * Parses "delete,swap,repeat:5,plan:0,1,3,2". Bare integers after `plan:` belong to that plan (a plan
 * ends at the next word); `;` also separates entries.
 */
export function parseInterventionSpecs(text: string, flag = '--interventions'): InterventionSpec[] {
  const specs: InterventionSpec[] = [];
  let current: { kind: 'plan'; plan: number[] } | undefined;
  const parts = text.split(/[,;]/).map((s) => s.trim());
  for (const part of parts) {
    // An empty entry ('delete,' or 'plan:0,1,,2') is a typo, never shorthand for anything.
    if (part === '') throw new LayerlabError(`${flag}: empty entry in '${text}'`);
    if (/^\d+$/.test(part)) {
      if (!current) throw new LayerlabError(`${flag}: block index '${part}' outside a plan; write custom plans as plan:0,1,3,2`);
      current.plan.push(parseStrictInt(part, `${flag} (plan block)`));
      continue;
    }
    current = undefined;
    const m = /^([a-z]+)(?::(.*))?$/i.exec(part);
    const word = m?.[1].toLowerCase();
    const arg = m?.[2];
    if (word === 'delete' || word === 'drop' || word === 'swap') {
      if (arg !== undefined) throw new LayerlabError(`${flag}: '${part}' takes no argument`);
      specs.push({ kind: word === 'swap' ? 'swap' : 'delete' });
    } else if (word === 'repeat') {
      if (arg === undefined || !/^[0-9]+$/.test(arg) || Number(arg) < 1) throw new LayerlabError(`${flag}: '${part}' needs a block length in decimal digits, e.g. repeat:5`);
      specs.push({ kind: 'repeat', k: parseStrictInt(arg, flag, 1) });
    } else if (word === 'plan') {
      const first = (arg ?? '').trim();
      const plan: number[] = [];
      if (first !== '' && first !== '[]') {
        if (!/^\d+$/.test(first)) throw new LayerlabError(`${flag}: '${part}' must be plan: followed by block indices, e.g. plan:0,1,3,2`);
        plan.push(parseStrictInt(first, `${flag} (plan block)`));
      }
      current = { kind: 'plan', plan };
      specs.push(current);
    } else {
      throw new LayerlabError(`${flag}: unknown intervention '${part}' (use delete, swap, repeat:K or plan:0,1,3,2)`);
    }
  }
  if (specs.length === 0) throw new LayerlabError(`${flag}: no interventions given`);
  // The same intervention twice would run twice and give two identical rows in metrics.json.
  const names = specs.map(specToString);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new LayerlabError(`${flag}: '${dup}' is given twice`);
  return specs;
}

const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

export function deletePlan(l: number, L: number): number[] {
  return [...range(0, l), ...range(l + 1, L)];
}

export function swapPlan(l: number, L: number): number[] {
  return [...range(0, l), l + 1, l, ...range(l + 2, L)];
}

/** Blocks s..s+k-1 each run twice in a row. */
export function repeatPlan(s: number, k: number, L: number): number[] {
  return [...range(0, s), ...range(s, s + k).flatMap((b) => [b, b]), ...range(s + k, L)];
}

/** First slot where `plan` departs from 0..L-1 (-1 when it is the identity plan). */
export function firstTouched(plan: readonly number[], L: number): number {
  for (let i = 0; i < Math.max(plan.length, L); i++) if (plan[i] !== i || i >= L) return i < plan.length ? Math.min(i, plan[i]) : i;
  return -1;
}

/** Every intervention the specs generate for an L-block model, in spec order; plans are validated. */
export function generateInterventions(specs: InterventionSpec[], L: number): Intervention[] {
  const out: Intervention[] = [];
  for (const s of specs) {
    if (s.kind === 'delete') for (let l = 0; l < L; l++) out.push({ kind: 'delete', layer: l, plan: deletePlan(l, L), name: `delete_${l}` });
    else if (s.kind === 'swap') for (let l = 0; l + 1 < L; l++) out.push({ kind: 'swap', layer: l, plan: swapPlan(l, L), name: `swap_${l}` });
    else if (s.kind === 'repeat') {
      if (s.k > L) throw new LayerlabError(`--interventions repeat:${s.k}: the model has only ${L} blocks`);
      for (let st = 0; st + s.k <= L; st++) out.push({ kind: 'repeat', layer: st, plan: repeatPlan(st, s.k, L), name: `repeat${s.k}_${st}` });
    } else {
      for (const b of s.plan)
        if (b >= L) throw new LayerlabError(`--interventions plan:${s.plan.join(',')} names block ${b}, but the model has blocks 0..${L - 1}`);
      out.push({ kind: 'plan', layer: firstTouched(s.plan, L), plan: [...s.plan], name: `plan_${s.plan.join('-') || 'empty'}` });
    }
  }
  return out;
}
