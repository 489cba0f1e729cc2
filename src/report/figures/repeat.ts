/** Layer repeat: output entropy when a block of layers is run twice, by where the block starts. */
import { captionTail, num, sigmaPhrase } from '../captions.js';
import { html } from '../safe-html.js';
import { FULL_WIDTH, HALF_WIDTH, VL_CONFIG, VL_SCHEMA } from '../style.js';
import type { FigureBuilder, MarkCheck } from '../types.js';
import { linePanel, type DepthRow } from './common.js';
import { band } from '../../stats/stat.js';

export const layerRepeat: FigureBuilder = (runs, ctx) => {
  const usable = runs.filter((r) => r.stages.repeat?.rows.length);
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const lengths = [...new Set(usable.flatMap((r) => r.stages.repeat!.rows.map((x) => x.block_length)))].sort((a, b) => a - b);
  const width = lengths.length === 1 ? FULL_WIDTH : HALF_WIDTH;
  const checks: MarkCheck[] = [];
  const panels: Array<Record<string, unknown>> = [];
  for (const len of lengths) {
    const rows: DepthRow[] = [];
    const inPanel = usable.filter((r) => r.stages.repeat!.rows.some((x) => x.block_length === len));
    for (const r of inPanel)
      for (const x of r.stages.repeat!.rows.filter((y) => y.block_length === len).sort((a, b) => a.start_layer - b.start_layer))
      {
        const b = band(x.entropy_bits, ctx.sigma);
        if (b) rows.push({ model: r.label, depth: x.relative_depth, y: x.entropy_bits.mean!, lo: b.lo, hi: b.hi, start_layer: x.start_layer, plan: x.plan.join(',') });
      }
    const base = inPanel
      .filter((r) => r.stages.repeat!.baseline_entropy_bits.mean !== null)
      .map((r) => ({ model: r.label, baseline: r.stages.repeat!.baseline_entropy_bits.mean, color: r.color }));
    const name = `rep_b${len}`;
    const p = linePanel({
      name,
      runs: inPanel,
      rows,
      title: len === 1 ? 'one layer repeated' : `${len} consecutive layers repeated`,
      yTitle: 'output entropy (bits)',
      width,
      height: 200,
      tooltip: [{ field: 'start_layer', title: 'first repeated block' }, { field: 'plan', title: 'blocks executed' }],
      extra: [
        {
          name: `${name}_base`,
          data: { values: base },
          mark: { type: 'rule', strokeDash: [2, 3], strokeWidth: 1.5 },
          encoding: { y: { field: 'baseline', type: 'quantitative' }, stroke: { field: 'color', type: 'nominal', scale: null }, tooltip: [{ field: 'model' }, { field: 'baseline', title: 'original entropy (bits)', format: '.3f' }] },
        },
      ],
    });
    panels.push(p.panel);
    checks.push(...p.checks, { name: `${name}_base`, count: base.length, what: `block length ${len}: original entropy per model` });
  }
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, concat: panels, columns: lengths.length === 1 ? 1 : 2, resolve: { scale: { color: 'shared' } } };
  const caption = html`Layer repeat: the entropy of the final next-token distribution (bits, mean over scored tokens) when a block of ${lengths.join(', ')} consecutive layer(s) starting at the given relative depth is executed twice in a row; \
dotted lines: the unmodified model's entropy. ${sigmaPhrase(ctx.sigma)}. \
${usable.map((r) => `${r.label}: original ${r.stages.repeat!.baseline_entropy_bits.mean?.toFixed(3) ?? '?'} bits`).join('; ')}. \
${captionTail(usable, (r) => r.stages.repeat?.choices, absent, 'repeat.json')}`;
  return {
    id: 'fig-repeat',
    title: 'Repeating layers',
    caption,
    spec: spec as never,
    table: {
      columns: ['model', 'block_length', 'start_layer', 'relative_depth', 'blocks_executed', 'entropy_bits', 'entropy_sem', 'baseline_entropy_bits'],
      rows: usable.flatMap((r) =>
        r.stages.repeat!.rows.map((x) => [r.label, x.block_length, x.start_layer, num(x.relative_depth), x.plan.join(','), num(x.entropy_bits.mean), num(x.entropy_bits.sem), num(r.stages.repeat!.baseline_entropy_bits.mean)]),
      ),
    },
    checks,
    absent,
  };
};
