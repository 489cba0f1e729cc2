/**
 * Fig. 5a of the paper: how much each single-layer intervention changes the output — KL divergence and
 * top-1 agreement with the original model after deleting one layer or swapping it with the next, with
 * 1-sigma bands, on relative depth.
 */
import { captionTail, num, sigmaPhrase } from '../captions.js';
import { html } from '../safe-html.js';
import { HALF_WIDTH, PANEL_HEIGHT, VL_CONFIG, VL_SCHEMA, depthX, modelColorEncoding, modelFillEncoding, panelTitle, stageItemCounts, stageLayers } from '../style.js';
import type { FigureBuilder, MarkCheck } from '../types.js';
import { band, errorBand } from '../../stats/stat.js';

const KINDS = ['delete', 'swap'] as const;
const DASH: Record<string, number[]> = { delete: [1, 0], swap: [6, 3] };
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

interface Row {
  model: string;
  kind: string;
  layer: number;
  plan: string;
  depth: number;
  kl: number;
  kl_lo: number;
  kl_hi: number;
  kl_err: number;
  agreement: number;
  ag_lo: number;
  ag_hi: number;
  ag_err: number;
  tokens: number;
}

export const robustness: FigureBuilder = (runs, ctx) => {
  const usable = runs.filter((r) => r.sweep?.interventions.some((x) => x.kind === 'delete' || x.kind === 'swap'));
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const raw: Omit<Row, 'kl_lo' | 'kl_hi'>[] = [];
  for (const r of usable)
    for (const x of r.sweep!.interventions) {
      if (!(KINDS as readonly string[]).includes(x.kind)) continue;
      if (!finite(x.kl_mean) || !finite(x.agreement) || !finite(x.relative_depth)) continue;
      const klBand = band({ mean: x.kl_mean, sem: x.kl_sem, docs: x.docs }, ctx.sigma)!;
      const agBand = band({ mean: x.agreement, sem: x.agreement_sem, docs: x.docs }, ctx.sigma, [0, 1])!;
      raw.push({
        model: r.label,
        kind: x.kind,
        layer: x.layer,
        plan: x.plan.join(','),
        depth: x.relative_depth,
        kl: x.kl_mean,
        kl_err: klBand.err,
        agreement: x.agreement,
        ag_lo: agBand.lo,
        ag_hi: agBand.hi,
        ag_err: agBand.err,
        tokens: x.tokens,
      });
    }
  raw.sort((a, b) => a.model.localeCompare(b.model) || a.kind.localeCompare(b.kind) || a.depth - b.depth);
  const positive = raw.map((x) => x.kl).filter((v) => v > 0);
  const minPos = positive.length ? Math.min(...positive) : 1e-6;
  const maxKl = positive.length ? Math.max(...positive) : 1;
  const logScale = maxKl / minPos > 30;
  const floor = minPos / 3;
  const rows: Row[] = raw.map((x) => ({
    ...x,
    kl: logScale ? Math.max(x.kl, floor) : x.kl,
    // The band of the unfloored mean, clamped at the log scale's floor (or at 0).
    kl_lo: errorBand(x.kl, x.kl_err, [logScale ? floor : 0, Infinity])!.lo,
    kl_hi: x.kl + x.kl_err,
  }));
  const kinds = KINDS.filter((k) => rows.some((x) => x.kind === k));
  const series = new Set(rows.map((x) => `${x.model}|${x.kind}`)).size;
  const st = stageItemCounts(usable, HALF_WIDTH);
  const checks: MarkCheck[] = [];
  const panel = (which: 'kl' | 'agreement') => {
    const name = `fig5a_${which}`;
    const y = which === 'kl' ? 'kl' : 'agreement';
    const lo = which === 'kl' ? 'kl_lo' : 'ag_lo';
    const hi = which === 'kl' ? 'kl_hi' : 'ag_hi';
    const yEnc =
      which === 'kl'
        ? { field: y, type: 'quantitative', scale: logScale ? { type: 'log' } : { zero: true }, axis: { title: `KL divergence${logScale ? ' (log scale)' : ''}`, format: '~g' } }
        : { field: y, type: 'quantitative', scale: { domainMax: 1, zero: false }, axis: { title: 'top-1 agreement with original', format: '.0%' } };
    checks.push({ name: `${name}_line`, count: series, what: `${which}: one line per model and intervention kind` });
    checks.push({ name: `${name}_band`, count: series, what: `${which}: one 1-sigma band per model and kind` });
    if (st.bands) checks.push({ name: `${name}_stageband`, count: st.bands, what: 'stage bands' });
    const color = modelColorEncoding(usable);
    const tooltip = [
      { field: 'model' },
      { field: 'kind' },
      { field: 'layer' },
      { field: 'plan', title: 'blocks executed' },
      { field: 'depth', title: 'relative depth', format: '.3f' },
      { field: which === 'kl' ? 'kl' : 'agreement', format: '.4g' },
      { field: which === 'kl' ? 'kl_err' : 'ag_err', title: `± (${ctx.sigma})`, format: '.3g' },
    ];
    return {
      title: panelTitle(which === 'kl' ? 'KL divergence from the original output' : 'Top-1 agreement with the original', usable),
      width: HALF_WIDTH,
      height: PANEL_HEIGHT + 20,
      layer: [
        ...stageLayers(usable, HALF_WIDTH, name),
        {
          name: `${name}_band`,
          data: { values: rows },
          mark: { type: 'area', opacity: 0.16 },
          encoding: { x: depthX(), y: { field: lo, type: 'quantitative' }, y2: { field: hi }, fill: modelFillEncoding(usable), detail: { field: 'kind' } },
        },
        {
          name: `${name}_line`,
          data: { values: rows },
          mark: { type: 'line' },
          encoding: {
            x: depthX(),
            y: yEnc,
            color,
            strokeDash: { field: 'kind', type: 'nominal', scale: { domain: kinds, range: kinds.map((k) => DASH[k]) }, legend: { title: null } },
            tooltip,
          },
        },
        {
          name: `${name}_pts`,
          data: { values: rows },
          mark: { type: 'point', size: 18, filled: true },
          encoding: { x: depthX(), y: { field: y, type: 'quantitative' }, fill: modelFillEncoding(usable), tooltip },
        },
      ],
    };
  };
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, hconcat: [panel('kl'), panel('agreement')], resolve: { scale: { color: 'shared', strokeDash: 'shared' } } };
  const summaries = usable
    .map((r) => {
      const s = r.sweep!.summary ?? {};
      const parts = Object.entries(s)
        .filter(([k]) => k === 'delete' || k === 'swap')
        .map(([k, v]) => `${k} ${(v.mean_agreement * 100).toFixed(1)}%` + (finite(v.mean_agreement_excluding_ends) ? ` (${(v.mean_agreement_excluding_ends * 100).toFixed(1)}% without the first and last block)` : ''));
      return parts.length ? `${r.label}: ${parts.join(', ')}` : '';
    })
    .filter(Boolean);
  const caption = html`Sensitivity to single-layer interventions: <b>delete</b> runs the model without block ℓ; <b>swap</b> exchanges blocks ℓ and ℓ+1\
 (x = relative depth ℓ / (L − 1) of the first block touched). Left: mean KL divergence between the original and the intervened next-token distributions\
${logScale ? ' (log scale; values below ' + floor.toPrecision(2) + ' are drawn at that floor)' : ''}. \
Right: fraction of scored tokens whose top-1 prediction is unchanged. ${sigmaPhrase(ctx.sigma)}. \
${summaries.length ? `Mean agreement over all interventions of a kind: ${summaries.join('; ')}. ` : ''}\
${captionTail(usable, (r) => r.sweepChoices, absent, 'delete/swap rows in metrics.json')}`;
  return {
    id: 'fig-robustness',
    title: 'Layer deletion and swap: KL and top-1 agreement (paper Fig. 5a)',
    caption,
    spec: spec as never,
    table: {
      columns: ['model', 'kind', 'layer', 'blocks_executed', 'relative_depth', 'kl_mean', `kl_${ctx.sigma}`, 'agreement', `agreement_${ctx.sigma}`, 'tokens'],
      rows: raw.map((x) => [x.model, x.kind, x.layer, x.plan, num(x.depth), num(x.kl), num(x.kl_err), num(x.agreement), num(x.ag_err), x.tokens]),
    },
    checks,
    absent,
  };
};
