/**
 * Turns sweep accumulators into the result files: metrics.json (SweepResult), metrics.csv (the same
 * intervention rows) and the per-kind summary.
 */
import type { InterventionRow, SweepBaseline, SweepResult, SweepSummary } from '../results/schema.js';
import type { Provenance } from '../util/provenance.js';
import type { DataProvenance } from '../results/schema.js';
import type { Intervention } from './interventions.js';
import type { BaselineAccumulator, PlanAccumulator } from './metrics.js';

export const SUMMARY_DEFINITION =
  'mean_agreement: unweighted mean, over the interventions of this kind (one per layer or layer pair, the first and last included), ' +
  'of each intervention\'s token-pooled top-1 agreement with the original model ("relative accuracy"); the paper\'s "retains 72-95% of ' +
  'top-1 accuracy" is read as this number per model. mean_agreement_excluding_ends leaves out interventions touching the first block or ' +
  'the last block. mean_kl: the same unweighted mean of kl_mean.';

export function baselineBlock(plan: number[], acc: BaselineAccumulator): SweepBaseline {
  const loss = acc.loss.summary(), accuracy = acc.accuracy.summary(), ent = acc.entropy.summary();
  return {
    plan, tokens: ent.count, docs: ent.docs,
    loss: loss.mean, loss_std: loss.std, loss_sem: loss.sem,
    accuracy: accuracy.mean, accuracy_std: accuracy.std, accuracy_sem: accuracy.sem,
    entropy_bits: ent.mean, entropy_bits_std: ent.std, entropy_bits_sem: ent.sem,
  };
}

export function interventionRows(interventions: Intervention[], accs: PlanAccumulator[], baseline: SweepBaseline, L: number): InterventionRow[] {
  return interventions.map((iv, i) => {
    const a = accs[i];
    const kl = a.kl.summary(), ag = a.agreement.summary(), ac = a.accuracy.summary(), lo = a.loss.summary(), en = a.entropy.summary();
    return {
      kind: iv.kind, layer: iv.layer, plan: iv.plan, relative_depth: iv.layer < 0 ? NaN : L > 1 ? iv.layer / (L - 1) : 0, name: iv.name,
      tokens: kl.count, docs: kl.docs,
      kl_mean: kl.mean, kl_std: kl.std, kl_sem: kl.sem,
      agreement: ag.mean, agreement_std: ag.std, agreement_sem: ag.sem,
      accuracy: ac.mean, accuracy_std: ac.std, accuracy_sem: ac.sem, accuracy_baseline: baseline.accuracy,
      loss: lo.mean, loss_std: lo.std, loss_sem: lo.sem, loss_baseline: baseline.loss,
      entropy_bits: en.mean, entropy_bits_std: en.std, entropy_bits_sem: en.sem, entropy_bits_baseline: baseline.entropy_bits,
      loss_delta: lo.mean - baseline.loss, entropy_bits_delta: en.mean - baseline.entropy_bits,
    };
  });
}

/**
 * Does an intervention touch the first or the last block? Block 0 is untouched when it runs once, in
 * slot 0; block L-1 when it runs once, in the last slot (so delete(L-2) leaves the last block alone, and
 * swap(L-2), delete(L-1) and a repeat ending at L-1 touch it).
 */
export function touchesEnds(plan: readonly number[], L: number): boolean {
  const once = (b: number) => plan.filter((x) => x === b).length === 1;
  return !(plan[0] === 0 && once(0) && plan[plan.length - 1] === L - 1 && once(L - 1));
}

export function summarize(rows: InterventionRow[], L: number): Record<string, SweepSummary> {
  const out: Record<string, SweepSummary> = {};
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
  for (const kind of [...new Set(rows.map((r) => r.kind))]) {
    const rs = rows.filter((r) => r.kind === kind);
    const inner = rs.filter((r) => !touchesEnds(r.plan, L));
    const ag = rs.map((r) => r.agreement);
    out[kind] = {
      interventions: rs.length,
      mean_agreement: mean(ag),
      mean_agreement_excluding_ends: inner.length ? mean(inner.map((r) => r.agreement)) : null,
      min_agreement: Math.min(...ag),
      max_agreement: Math.max(...ag),
      mean_kl: mean(rs.map((r) => r.kl_mean)),
      definition: SUMMARY_DEFINITION,
    };
  }
  return out;
}

export function sweepResult(args: {
  provenance: Provenance;
  layers: number;
  data?: DataProvenance;
  choices?: Record<string, unknown>;
  baseline: SweepBaseline;
  rows: InterventionRow[];
}): SweepResult {
  return { provenance: args.provenance, layers: args.layers, data: args.data, choices: args.choices, baseline: args.baseline, interventions: args.rows, summary: summarize(args.rows, args.layers) };
}

export const CSV_COLUMNS = [
  'kind', 'layer', 'relative_depth', 'name', 'plan', 'tokens', 'docs',
  'kl_mean', 'kl_std', 'kl_sem', 'agreement', 'agreement_std', 'agreement_sem',
  'accuracy', 'accuracy_std', 'accuracy_sem', 'accuracy_baseline',
  'loss', 'loss_std', 'loss_sem', 'loss_baseline', 'loss_delta',
  'entropy_bits', 'entropy_bits_std', 'entropy_bits_sem', 'entropy_bits_baseline', 'entropy_bits_delta',
] as const;

/** metrics.csv: one row per intervention; plan written as blocks separated by spaces; NaN as empty. */
export function metricsCsv(rows: InterventionRow[]): string {
  const cell = (v: unknown): string => {
    if (Array.isArray(v)) return v.join(' ');
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
    return String(v);
  };
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => cell(r[c])).join(','));
  return lines.join('\n') + '\n';
}

