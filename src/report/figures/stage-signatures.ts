/**
 * Fig. 1 of the paper: the four stage signatures of each model overlaid on relative depth, each
 * min-max normalized to [0, 1] within its model — deletion KL (sweep), previous-5 local attention,
 * prediction and suppression neuron densities.
 */
import { captionTail, num } from '../captions.js';
import { html } from '../safe-html.js';
import { DEPTH_TITLE, FULL_WIDTH, VL_CONFIG, VL_SCHEMA, depthX, panelTitle, stageLayers, stageItemCounts } from '../style.js';
import type { FigureBuilder, LoadedRun, MarkCheck } from '../types.js';

export const SIGNALS = [
  { key: 'deletion KL', color: '#111111', dash: [1, 0] },
  { key: 'previous-5 local attention', color: '#e8590c', dash: [1, 0] },
  { key: 'prediction neuron density', color: '#2b8a3e', dash: [1, 0] },
  { key: 'suppression neuron density', color: '#9c36b5', dash: [6, 3] },
] as const;

interface Point {
  model: string;
  signal: string;
  layer: number;
  depth: number;
  value: number;
  normalized: number;
}

/** Each stage signal of a run on its own layers (raw values), by signal key; signals the run lacks are absent. */
export function signalsOf(r: LoadedRun): Map<string, Array<{ layer: number; depth: number; value: number }>> {
  const out = new Map<string, Array<{ layer: number; depth: number; value: number }>>();
  const del = r.sweep?.interventions
    .filter((x) => x.kind === 'delete' && Number.isFinite(x.kl_mean) && Number.isFinite(x.relative_depth) && x.kl_mean !== null)
    .sort((a, b) => a.layer - b.layer);
  if (del?.length) out.set('deletion KL', del.map((x) => ({ layer: x.layer, depth: x.relative_depth, value: x.kl_mean })));
  const la = r.stages['local-attention'];
  if (la) out.set('previous-5 local attention', la.per_layer.filter((x) => x.prev5.mean !== null).map((x) => ({ layer: x.layer, depth: x.relative_depth, value: x.prev5.mean! })));
  const n = r.stages.neurons;
  if (n) {
    out.set('prediction neuron density', n.per_layer.map((x) => ({ layer: x.layer, depth: x.relative_depth, value: x.prediction_density })));
    out.set('suppression neuron density', n.per_layer.map((x) => ({ layer: x.layer, depth: x.relative_depth, value: x.suppression_density })));
  }
  for (const [k, v] of out) if (v.length === 0) out.delete(k);
  return out;
}

/** Min-max normalization to [0, 1]; a constant signal maps to 0. */
export function normalize(values: number[]): number[] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
}

export const stageSignatures: FigureBuilder = (runs) => {
  const usable = runs.filter((r) => signalsOf(r).size >= 1);
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const points: Point[] = [];
  const checks: MarkCheck[] = [];
  const panels = usable.map((r, i) => {
    const sig = signalsOf(r);
    const rows: Point[] = [];
    for (const [signal, vals] of sig) {
      const norm = normalize(vals.map((v) => v.value));
      vals.forEach((v, j) => rows.push({ model: r.label, signal, layer: v.layer, depth: v.depth, value: v.value, normalized: norm[j]! }));
    }
    points.push(...rows);
    const name = `fig01_m${i}`;
    const st = stageItemCounts([r], FULL_WIDTH);
    checks.push({ name: `${name}_lines`, count: sig.size, what: `${r.label}: one line per signal` });
    checks.push({ name: `${name}_points`, count: rows.length, what: `${r.label}: one point per layer and signal` });
    if (st.bands) checks.push({ name: `${name}_stageband`, count: st.bands, what: `${r.label}: stage bands` });
    const enc = {
      x: depthX('depth', i === usable.length - 1 ? DEPTH_TITLE : null),
      y: { field: 'normalized', type: 'quantitative', scale: { domain: [0, 1] }, axis: { title: 'normalized signal', tickCount: 5 } },
      color: {
        field: 'signal',
        type: 'nominal',
        scale: { domain: SIGNALS.map((s) => s.key), range: SIGNALS.map((s) => s.color) },
        legend: { title: null, columns: 2 },
      },
      strokeDash: { field: 'signal', type: 'nominal', scale: { domain: SIGNALS.map((s) => s.key), range: SIGNALS.map((s) => s.dash) }, legend: { title: null, columns: 2 } },
      tooltip: [
        { field: 'signal' },
        { field: 'layer' },
        { field: 'depth', title: 'relative depth', format: '.3f' },
        { field: 'value', title: 'raw value', format: '.4g' },
        { field: 'normalized', format: '.3f' },
      ],
    };
    return {
      title: panelTitle(`${r.label}  (L = ${r.layers ?? '?'})`, [r], { color: r.color }),
      width: FULL_WIDTH,
      height: 190,
      layer: [
        ...stageLayers([r], FULL_WIDTH, name),
        { name: `${name}_lines`, data: { values: rows }, mark: { type: 'line', strokeWidth: 2.2 }, encoding: enc },
        { name: `${name}_points`, data: { values: rows }, mark: { type: 'point', size: 22, filled: true }, encoding: { ...enc, strokeDash: undefined, color: undefined, fill: { ...enc.color, legend: null } } },
      ],
    };
  });
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, vconcat: panels, resolve: { scale: { color: 'shared', strokeDash: 'shared' } } };
  const caption = html`Stage signatures overlaid on relative depth, one panel per model. Each signal is min-max normalized to [0, 1] within its model (raw values in the table): \
<b>deletion KL</b> — mean KL divergence between the original next-token distribution and the one with that single layer deleted (sweep, metrics.json); \
<b>previous-5 local attention</b> — mean attention weight per (query, offset) entry on the 5 preceding tokens, pooled over heads (local-attention.json, <code>prev5</code>); \
<b>prediction / suppression neuron density</b> — fraction of a layer's MLP neurons whose output weights, projected onto the vocabulary, have high kurtosis with positive / negative skew (neurons.json). \
${captionTail(usable, (r) => r.stages.neurons && { neurons_mode: r.stages.neurons.mode, neurons_threshold: r.stages.neurons.threshold, local_attention_include_bos: r.stages['local-attention']?.include_bos }, absent, 'metrics.json, local-attention.json or neurons.json')}`;
  return {
    id: 'fig-stage-signatures',
    title: 'Stage signatures per model (paper Fig. 1)',
    caption,
    spec: spec as never,
    table: {
      columns: ['model', 'signal', 'layer', 'relative_depth', 'value', 'normalized'],
      rows: points.map((p) => [p.model, p.signal, p.layer, num(p.depth), num(p.value), num(p.normalized)]),
    },
    checks,
    absent,
  };
};
