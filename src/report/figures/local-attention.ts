/**
 * Local attention on relative depth: for each window k (1, 2, 4, 8, 16) the metric the run's protocol
 * names (layerlab: the total attention weight on the k preceding tokens; paper: the authors' mean weight
 * per (query, offset) entry), and the paper's previous-5 metric, one small panel each, models overlaid.
 */
import { captionTail, num, sigmaPhrase } from '../captions.js';
import { html } from '../safe-html.js';
import { PANEL_HEIGHT, VL_CONFIG, VL_SCHEMA, depthX, modelColorEncoding, modelFillEncoding, panelTitle, stageItemCounts, stageLayers } from '../style.js';
import type { FigureBuilder, MarkCheck } from '../types.js';
import { band } from '../../stats/stat.js';

const W = 205;

export const localAttention: FigureBuilder = (runs, ctx) => {
  const usable = runs.filter((r) => r.stages['local-attention']);
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const shownOf = (r: (typeof usable)[number]) => r.stages['local-attention']!.shown ?? 'total';
  const shown = new Set(usable.map(shownOf));
  const windowAxis = shown.size > 1 ? 'weight: total or entry' : shown.has('mean_entry') ? 'mean weight per entry' : 'weight on previous k';
  const windows = [...new Set(usable.flatMap((r) => r.stages['local-attention']!.windows))].sort((a, b) => a - b);
  const metrics = [...windows.map((k) => ({ key: String(k), title: `window k = ${k}` })), { key: 'prev5', title: 'previous-5 (per entry, Fig. 1)' }];
  const rows: Array<Record<string, unknown>> = [];
  for (const r of usable)
    for (const p of r.stages['local-attention']!.per_layer) {
      for (const m of metrics) {
        const s = m.key === 'prev5' ? p.prev5 : shownOf(r) === 'mean_entry' ? p.mean_entry?.[m.key] : p.windows[m.key];
        if (!s || s.mean === null) continue;
        const b = band(s, ctx.sigma, [0, 1])!;
        rows.push({ model: r.label, metric: m.key, layer: p.layer, depth: p.relative_depth, mean: s.mean, sem: b.err, lo: b.lo, hi: b.hi, count: s.n });
      }
    }
  const checks: MarkCheck[] = [];
  const st = stageItemCounts(usable, W);
  const color = modelColorEncoding(usable);
  const panels = metrics.map((m, i) => {
    const data = rows.filter((x) => x.metric === m.key);
    const name = `la_${m.key === 'prev5' ? 'prev5' : 'k' + m.key}`;
    const series = new Set(data.map((x) => x.model)).size;
    checks.push({ name: `${name}_line`, count: series, what: `${m.title}: one line per model` });
    if (st.bands) checks.push({ name: `${name}_stageband`, count: st.bands, what: 'stage bands' });
    const tooltip = [{ field: 'model' }, { field: 'layer' }, { field: 'depth', title: 'relative depth', format: '.3f' }, { field: 'mean', format: '.4f' }, { field: 'sem', title: `± ${ctx.sigma}`, format: '.2g' }];
    return {
      title: panelTitle(m.title, usable),
      width: W,
      height: PANEL_HEIGHT - 60,
      layer: [
        ...stageLayers(usable, W, name),
        { name: `${name}_band`, data: { values: data }, mark: { type: 'area', opacity: 0.18 }, encoding: { x: depthX('depth', i >= metrics.length - 3 ? 'relative depth' : null), y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, fill: modelFillEncoding(usable) } },
        {
          name: `${name}_line`,
          data: { values: data },
          mark: { type: 'line', point: false },
          encoding: {
            x: depthX('depth', i >= metrics.length - 3 ? 'relative depth' : null),
            y: { field: 'mean', type: 'quantitative', scale: { zero: true }, axis: { title: m.key === 'prev5' ? 'mean weight per entry' : i % 3 === 0 ? windowAxis : null, tickCount: 4 } },
            color,
            tooltip,
          },
        },
      ],
    };
  });
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, concat: panels, columns: 3, resolve: { scale: { color: 'shared' } } };
  const bos = [...new Set(usable.map((r) => r.stages['local-attention']!.include_bos))];
  const total = html`total post-softmax attention weight a query puts on its k preceding tokens, \
S<sub>k</sub>(q) = Σ<sub>i=1..k</sub> A[q, q−i], averaged with equal weight over heads, queries and windows (so S<sub>k</sub> grows with k)`;
  const perEntry = html`the authors' per-offset mean (<code>extract_top_k_sub_diagonals_mean</code>): the mean weight per (query, offset) entry for offsets 1–k, pooled over heads and queries, one value per document, then averaged over documents (about S<sub>k</sub>/k)`;
  const windowText = shown.size > 1
    ? html`for runs of the layerlab protocol the ${total}; for runs of the paper protocol ${perEntry}`
    : shown.has('mean_entry') ? perEntry : total;
  const caption = html`Local attention, the detokenization signature. <b>Window k</b>: ${windowText}; both metrics are in local-attention.json. \
<b>Previous-5</b>: the paper's Fig. 1 metric, the mean weight per (query, offset) entry for offsets 1–5, pooled over heads, per document (about S<sub>5</sub>/5). \
The BOS key ${bos.length === 1 ? (bos[0] ? 'counts' : 'does not count') : 'counts for some models only (see choices)'} as a preceding token. ${sigmaPhrase(ctx.sigma)}. \
${captionTail(usable, (r) => r.stages['local-attention']?.choices, absent, 'local-attention.json')}`;
  return {
    id: 'fig-local-attention',
    title: 'Local attention by window size',
    caption,
    spec: spec as never,
    table: {
      columns: ['model', 'metric', 'layer', 'relative_depth', 'mean', ctx.sigma, 'count'],
      rows: rows.map((x) => [x.model as string, x.metric === 'prev5' ? 'prev5' : `k=${x.metric}`, x.layer as number, num(x.depth as number), num(x.mean as number), num(x.sem as number), x.count as number]),
    },
    checks,
    absent,
  };
};
