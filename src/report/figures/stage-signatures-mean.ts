/**
 * Fig. 1 of the paper proper: the stage signatures averaged across the models of the report. Each signal
 * is min-max normalized within its model on the model's own layers (as in the per-model figure), linearly
 * interpolated onto the relative depths of the deepest model, and averaged across models with a ±1σ band
 * (sample std across models; the standard error with an explicit `--sigma sem`). Below, one small panel per
 * signal shows every model's normalized curve with the mean. Drawn only for two or more models.
 */
import { dataSentence, choicesSentence, absentSentence, num } from '../captions.js';
import { html, joinHtml } from '../safe-html.js';
import { DEPTH_TITLE, FULL_WIDTH, HALF_WIDTH, VL_CONFIG, VL_SCHEMA, depthX, modelColorEncoding } from '../style.js';
import type { FigureBuilder, LoadedRun, MarkCheck } from '../types.js';
import { band } from '../../stats/stat.js';
import { averageOnGrid, depthGrid, type AveragePoint, type DepthPoint } from './depth-average.js';
import { SIGNALS, normalize, signalsOf } from './stage-signatures.js';

/** A signal's per-model normalized curves and their average on the grid. */
export interface AveragedSignal {
  signal: string;
  runs: LoadedRun[];
  /** Each run's normalized curve on its own layers, sorted by depth. */
  curves: Array<Array<DepthPoint & { layer: number }>>;
  points: AveragePoint[];
}

/** Blocks of a run: from its files, else from the deepest layer index among its signals. */
function layerCount(r: LoadedRun): number {
  if (r.layers && r.layers >= 1) return r.layers;
  let max = 0;
  for (const vals of signalsOf(r).values()) for (const v of vals) max = Math.max(max, v.layer + 1);
  return max;
}

/**
 * The averaging behind the figure: for each signal held by two or more runs, every run's min-max
 * normalized curve and the mean across runs on the grid ℓ/(L_max − 1) of the deepest run. `notAveraged`
 * lists the signals only one run has, or whose curves share no depth (each with the reason).
 */
export function averageSignatures(runs: LoadedRun[]): { grid: number[]; lMax: number; signals: AveragedSignal[]; notAveraged: Array<{ signal: string; why: string }> } {
  const lMax = Math.max(1, ...runs.map(layerCount));
  const grid = depthGrid(lMax);
  const perRun = runs.map((r) => signalsOf(r));
  const signals: AveragedSignal[] = [];
  const notAveraged: Array<{ signal: string; why: string }> = [];
  for (const { key } of SIGNALS) {
    const holders = runs.filter((_, i) => perRun[i]!.has(key));
    if (holders.length === 0) continue;
    if (holders.length === 1) {
      notAveraged.push({ signal: key, why: `only ${holders[0]!.label} has it` });
      continue;
    }
    const curves = holders.map((r) => {
      const vals = perRun[runs.indexOf(r)]!.get(key)!;
      const norm = normalize(vals.map((v) => v.value));
      return vals.map((v, j) => ({ layer: v.layer, depth: v.depth, value: norm[j]! })).sort((a, b) => a.depth - b.depth);
    });
    const points = averageOnGrid(curves, grid);
    // curves over disjoint depth ranges (partial sweeps) have no point to average
    if (points.some((p) => p.stat.n >= 2)) signals.push({ signal: key, runs: holders, curves, points });
    else notAveraged.push({ signal: key, why: 'no depth is covered by two models' });
  }
  return { grid, lMax, signals, notAveraged };
}

export const stageSignaturesMean: FigureBuilder = (runs, ctx) => {
  const usable = runs.filter((r) => signalsOf(r).size >= 1);
  if (usable.length < 2) return undefined;
  const { lMax, signals, notAveraged } = averageSignatures(usable);
  if (signals.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  // The spread between models, not within one: std across models unless --sigma sem was asked for.
  const sigma = ctx.sigmaGiven ? ctx.sigma : 'std';
  const keys = signals.map((s) => s.signal);
  const sig = SIGNALS.filter((s) => keys.includes(s.key));

  interface MeanRow { signal: string; depth: number; mean: number; lo: number; hi: number; std: number | null; sem: number | null; n: number }
  const meanRows: MeanRow[] = [];
  for (const s of signals)
    for (const p of s.points) {
      const b = band(p.stat, sigma, [0, 1]);
      if (b && p.stat.n >= 2) meanRows.push({ signal: s.signal, depth: p.depth, mean: p.stat.mean!, lo: b.lo, hi: b.hi, std: p.stat.std, sem: p.stat.sem, n: p.stat.n });
    }

  const x = depthX('depth', DEPTH_TITLE);
  const signalColor = { field: 'signal', type: 'nominal', scale: { domain: sig.map((s) => s.key), range: sig.map((s) => s.color) }, legend: { title: null, columns: 2 } };
  const signalDash = { field: 'signal', type: 'nominal', scale: { domain: sig.map((s) => s.key), range: sig.map((s) => s.dash) }, legend: { title: null, columns: 2 } };
  const meanTooltip = [
    { field: 'signal' },
    { field: 'depth', title: 'relative depth', format: '.3f' },
    { field: 'mean', title: 'mean of normalized', format: '.3f' },
    { field: 'std', title: 'std across models', format: '.3f' },
    { field: 'sem', title: 'sem across models', format: '.3f' },
    { field: 'n', title: 'models' },
  ];
  const y01 = (title: string | null, field = 'mean', ticks = 5) => ({ field, type: 'quantitative', scale: { domain: [0, 1] }, axis: { title, tickCount: ticks } });
  const name = 'fig1avg';
  const checks: MarkCheck[] = [
    { name: `${name}_band`, count: sig.length, what: `±1 ${sigma} band across models, one per signal` },
    { name: `${name}_line`, count: sig.length, what: 'one mean line per signal' },
    { name: `${name}_pts`, count: meanRows.length, what: 'one point per grid depth and signal' },
  ];
  const meanPanel = {
    title: { text: `Mean of ${usable.length} models, ±1 ${sigma === 'std' ? 'standard deviation' : 'standard error'} across models`, anchor: 'start', frame: 'group' },
    width: FULL_WIDTH,
    height: 230,
    layer: [
      { name: `${name}_band`, data: { values: meanRows }, mark: { type: 'area', fillOpacity: 0.16 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: signalColor } },
      { name: `${name}_line`, data: { values: meanRows }, mark: { type: 'line', strokeWidth: 2.4 }, encoding: { x, y: y01('mean of min-max normalized signals'), color: signalColor, strokeDash: signalDash, tooltip: meanTooltip } },
      { name: `${name}_pts`, data: { values: meanRows }, mark: { type: 'point', size: 14, filled: true }, encoding: { x, y: y01(null), color: signalColor, tooltip: meanTooltip } },
    ],
  };

  // One small panel per signal: each model's normalized curve (on its own layers) and the mean.
  const modelColor = modelColorEncoding(usable, 'model', { title: 'models (mean: black, dashed)', titleLimit: 400 });
  interface CurveRow { model: string; signal: string; layer: number; depth: number; normalized: number }
  const smallPanels = signals.map((s, k) => {
    const rows: CurveRow[] = s.runs.flatMap((r, i) => s.curves[i]!.map((p) => ({ model: r.label, signal: s.signal, layer: p.layer, depth: p.depth, normalized: p.value })));
    const mean = meanRows.filter((m) => m.signal === s.signal);
    checks.push({ name: `${name}_s${k}_model`, count: s.runs.length, what: `${s.signal}: one line per model` });
    checks.push({ name: `${name}_s${k}_mean`, count: 1, what: `${s.signal}: the mean` });
    const xTitle = k >= signals.length - 2 ? 'relative depth' : null;
    return {
      title: { text: s.signal, anchor: 'start', frame: 'group' },
      width: HALF_WIDTH,
      height: 140,
      layer: [
        {
          name: `${name}_s${k}_model`,
          data: { values: rows },
          mark: { type: 'line', strokeWidth: 1.4, opacity: 0.85 },
          encoding: {
            x: depthX('depth', xTitle),
            y: y01(k % 2 === 0 ? 'normalized' : null, 'normalized', 3),
            color: modelColor,
            tooltip: [{ field: 'model' }, { field: 'layer' }, { field: 'depth', title: 'relative depth', format: '.3f' }, { field: 'normalized', format: '.3f' }],
          },
        },
        {
          name: `${name}_s${k}_mean`,
          data: { values: mean },
          mark: { type: 'line', color: '#111111', strokeWidth: 2.2, strokeDash: [5, 3] },
          encoding: { x: depthX('depth', xTitle), y: y01(null, 'mean', 3), tooltip: meanTooltip },
        },
      ],
    };
  });
  const spec = {
    $schema: VL_SCHEMA,
    config: VL_CONFIG,
    vconcat: [meanPanel, { concat: smallPanels, columns: 2, resolve: { scale: { color: 'shared' } } }],
    resolve: { scale: { color: 'independent', fill: 'independent', strokeDash: 'independent' }, legend: { color: 'independent' } },
  };

  const layersOf = joinHtml(usable.map((r) => html`${r.label} (L = ${String(r.layers ?? '?')})`), ', ');
  const sigmaWords =
    sigma === 'std'
      ? html`±1 sample standard deviation across models (divisor n − 1; <code>--sigma sem</code> shows the standard error instead)`
      : html`±1 standard error across models (sample std / √n, as <code>--sigma sem</code> asks)`;
  const notAveragedNote = notAveraged.length
    ? html` Not averaged: ${joinHtml(notAveraged.map((s) => html`${s.signal} (${s.why})`), ', ')}.`
    : '';
  const caption = html`The stage signatures averaged across the ${String(usable.length)} models of this report: ${layersOf}. \
Each signal (deletion KL, previous-5 local attention, prediction and suppression neuron density; see the per-model figure for their definitions) is first min-max normalized to [0, 1] within its model, over that model's own layers at relative depth ℓ/(L − 1); \
each model's normalized curve is then interpolated linearly onto the relative depths of the deepest model (ℓ/(L<sub>max</sub> − 1), L<sub>max</sub> = ${String(lMax)} points, so its own curve is used as it is), never extrapolated beyond a model's first and last layer, \
and the mean is taken across the models that reach each point (their number, the std and the standard error are in the table). \
Band: ${sigmaWords}, clipped to [0, 1]. Below, one panel per signal: every model's normalized curve on its own layers (model colors) and the mean (black, dashed). \
The paper's Fig. 1 averages three model families and draws no band; its normalization is not stated and its plotting code is not released, so per-model min-max is layerlab's choice. \
Here each run counts once: give one run per family to average over families as the paper does. \
Normalized neuron densities equal normalized neuron counts (density = count / d<sub>mlp</sub> within a model). \
Stage boundaries differ between models and are drawn in the per-model figure.${notAveragedNote} \
${dataSentence(usable)} ${choicesSentence(usable, (r) => r.stages.neurons && { neurons_mode: r.stages.neurons.mode, neurons_threshold: r.stages.neurons.threshold, local_attention_include_bos: r.stages['local-attention']?.include_bos })}${absentSentence(absent, 'metrics.json, local-attention.json or neurons.json')}`;

  const modelCols = usable.map((r) => `normalized: ${r.label}`);
  const tableRows: Array<Array<string | number | null>> = [];
  for (const s of signals)
    for (const p of s.points)
      tableRows.push([
        s.signal,
        num(p.depth),
        num(p.stat.mean),
        num(p.stat.std),
        num(p.stat.sem),
        p.stat.n,
        ...usable.map((r) => {
          const i = s.runs.indexOf(r);
          return i < 0 ? null : num(p.values[i]);
        }),
      ]);
  return {
    id: 'fig-stage-signatures-mean',
    title: `Stage signatures averaged across ${usable.length} models (paper Fig. 1)`,
    caption,
    spec: spec as never,
    table: { columns: ['signal', 'relative_depth', 'mean', 'std_across_models', 'sem_across_models', 'models', ...modelCols], rows: tableRows },
    checks,
    absent,
  };
};
