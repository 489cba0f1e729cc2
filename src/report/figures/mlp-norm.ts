/** Norm of each layer's MLP output on relative depth (the residual-sharpening signature). */
import { captionTail, num, sigmaPhrase } from '../captions.js';
import { html } from '../safe-html.js';
import { FULL_WIDTH, VL_CONFIG, VL_SCHEMA } from '../style.js';
import type { FigureBuilder } from '../types.js';
import { linePanel, type DepthRow } from './common.js';
import { band } from '../../stats/stat.js';

export const mlpNorm: FigureBuilder = (runs, ctx) => {
  const usable = runs.filter((r) => r.stages['mlp-norm']);
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const rows: DepthRow[] = [];
  for (const r of usable)
    for (const l of r.stages['mlp-norm']!.per_layer) {
      const b = band(l.norm, ctx.sigma);
      if (b) rows.push({ model: r.label, depth: l.relative_depth, y: l.norm.mean!, lo: b.lo, hi: b.hi, layer: l.layer, std: l.norm.std });
    }
  const vals = rows.map((r) => r.y).filter((v) => v > 0);
  const log = vals.length > 0 && Math.max(...vals) / Math.min(...vals) > 50;
  const { panel, checks } = linePanel({
    name: 'mlp',
    runs: usable,
    rows,
    yTitle: `mean L2 norm of MLP output${log ? ' (log scale)' : ''}`,
    width: FULL_WIDTH,
    height: 220,
    yScale: log ? { type: 'log' } : { zero: true },
    tooltip: [{ field: 'layer' }, { field: 'std', title: 'std over tokens', format: '.3g' }],
  });
  // a one-element vconcat puts the legend above the stage tracks, not between them and the title
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, vconcat: [panel] };
  const caption = html`Mean L2 norm of each block's MLP output (the vector the MLP adds to the residual stream), over scored tokens. ${sigmaPhrase(ctx.sigma)}. \
A rise in the last layers is the paper's stage-4 (residual calibration) signature.${log ? ' Log scale: the norms span more than a factor of 50.' : ''} \
${captionTail(usable, (r) => r.stages['mlp-norm']?.choices, absent, 'mlp-norm.json')}`;
  return {
    id: 'fig-mlp-norm',
    title: 'MLP output norms',
    caption,
    spec: spec as never,
    table: {
      columns: ['model', 'layer', 'relative_depth', 'norm_mean', 'norm_std', 'norm_sem', 'count'],
      rows: usable.flatMap((r) => r.stages['mlp-norm']!.per_layer.map((l) => [r.label, l.layer, num(l.relative_depth), num(l.norm.mean), num(l.norm.std), num(l.norm.sem), l.norm.n])),
    },
    checks,
    absent,
  };
};
