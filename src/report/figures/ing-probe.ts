/**
 * The "-ing" neuron probes (ing-probe.json): probe accuracy by neuron and by ensemble size with the
 * model's own top-1 as the baseline (paper Figs. 9/12a), and the top neurons' W_U · w_out histograms for
 * "-ing" vs other tokens (App. I, Fig. 21).
 */
import { absentSentence, choicesSentence, dataSentence, fmtInt, num } from '../captions.js';
import { html } from '../safe-html.js';
import { FULL_WIDTH, VL_CONFIG, VL_SCHEMA, panelTitle } from '../style.js';
import type { FigureBuilder, LoadedRun, MarkCheck } from '../types.js';
import type { IngProbeResult } from '../../results/schema.js';

const KIND_COLORS = { suppression: '#d1495b', prediction: '#2a9d8f', none: '#5c6b73' };
const CLASS_COLORS = { '-ing tokens': '#e08e0b', 'other tokens': '#1f5fa8' };

const fileOf = (r: LoadedRun) => r.stages['ing-probe'];
const label = (n: { layer: number; neuron: number }) => `L${n.layer}.${n.neuron}`;

function notePanel(name: string, notes: string[]): Record<string, unknown> {
  return {
    name,
    width: FULL_WIDTH,
    height: 22 * notes.length,
    data: { values: notes.map((text, i) => ({ text, i })) },
    mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 13, color: '#8a5a00', limit: FULL_WIDTH },
    encoding: { x: { value: 4 }, y: { field: 'i', type: 'ordinal', axis: null }, text: { field: 'text' } },
  };
}

/** Why a run has no probe accuracies to draw, or undefined when it has them. */
export function probesSkippedReason(r: LoadedRun): string | undefined {
  const f = fileOf(r);
  const p = f?.probes;
  if (f && f.status === 'done' && p?.status === 'done' && p.single && p.ensemble && p.baseline) return undefined;
  return `${r.label}: "-ing" probes skipped — ${f?.reason ?? p?.reason ?? 'no reason given'}`;
}

/** Drawn when at least one run ran the probes; the others are named in a note (the histograms' caption names them otherwise). */
export const ingProbeAccuracy: FigureBuilder = (runs) => {
  const withFile = runs.filter((r) => fileOf(r));
  if (!withFile.some((r) => probesSkippedReason(r) === undefined)) return undefined;
  const absent = runs.filter((r) => !fileOf(r)).map((r) => r.label);
  const panels: Array<Record<string, unknown>> = [];
  const checks: MarkCheck[] = [];
  const table: Array<Array<string | number | null>> = [];
  const notes: string[] = [];
  withFile.forEach((r, i) => {
    const skipped = probesSkippedReason(r);
    if (skipped) {
      notes.push(skipped);
      return;
    }
    const p = fileOf(r)!.probes as Required<NonNullable<IngProbeResult['probes']>>;
    const byRank = new Map(p.single.map((s) => [s.rank, s]));
    const single = p.ensemble.map((e) => {
      const s = byRank.get(e.added_rank)!;
      return { model: r.label, k: e.k, neuron: label(s), rank: s.rank, kind: s.kind, accuracy: s.test_accuracy, train: s.train_accuracy };
    });
    const ensemble = p.ensemble.map((e) => ({ model: r.label, k: e.k, accuracy: e.test_accuracy, train: e.train_accuracy, l2: e.l2 }));
    for (const s of single) table.push([r.label, 'single', s.k, s.neuron, s.rank, s.kind, num(s.accuracy), num(s.train)]);
    for (const e of ensemble) table.push([r.label, 'ensemble', e.k, null, null, null, num(e.accuracy), num(e.train)]);
    table.push([r.label, 'model top-1', null, null, null, null, num(p.baseline.model_top1_accuracy), null]);
    const name = `ingp${i}`;
    const x = { field: 'k', type: 'quantitative', axis: { title: 'neuron, in order of single-probe accuracy  /  ensemble size k', tickMinStep: 1 }, scale: { domain: [0.5, p.ensemble.length + 0.5] } };
    const lowest = Math.min(...single.map((q) => q.accuracy), ...ensemble.map((q) => q.accuracy), p.baseline.model_top1_accuracy, p.baseline.chance);
    const y = { field: 'accuracy', type: 'quantitative', scale: { domain: [Math.min(0.4, Math.floor(lowest * 10) / 10), 1] }, axis: { title: 'held-out accuracy', format: '.0%' } };
    const lines = [
      { what: 'model top-1', accuracy: p.baseline.model_top1_accuracy, dash: [4, 3], color: '#d1495b' },
      { what: 'chance', accuracy: p.baseline.chance, dash: [1, 3], color: '#888888' },
    ];
    panels.push({
      width: FULL_WIDTH,
      height: 230,
      title: panelTitle(`${r.label}: ${fmtInt(p.dataset.per_class)} examples per class, ${fmtInt(p.dataset.test)} held out`, [r]),
      layer: [
        ...lines.map((l, j) => ({
          name: `${name}_rule${j}`,
          data: { values: [l] },
          mark: { type: 'rule', strokeDash: l.dash, strokeWidth: 1.6, color: l.color },
          encoding: { y, tooltip: [{ field: 'what' }, { field: 'accuracy', format: '.1%' }] },
        })),
        {
          name: `${name}_ens`,
          data: { values: ensemble },
          mark: { type: 'line', color: '#1f5fa8', point: false },
          encoding: { x, y, tooltip: [{ field: 'k', title: 'ensemble size k' }, { field: 'accuracy', title: 'held-out', format: '.1%' }, { field: 'train', format: '.1%' }, { field: 'l2', format: '.3g' }] },
        },
        {
          name: `${name}_single`,
          data: { values: single },
          mark: { type: 'point', filled: true, size: 46 },
          encoding: {
            x,
            y,
            color: { field: 'kind', type: 'nominal', scale: { domain: Object.keys(KIND_COLORS), range: Object.values(KIND_COLORS) }, legend: { title: 'single neuron', symbolType: 'circle', symbolSize: 60 } },
            tooltip: [{ field: 'neuron' }, { field: 'rank', title: 'selection rank' }, { field: 'kind' }, { field: 'accuracy', title: 'held-out', format: '.1%' }, { field: 'train', format: '.1%' }],
          },
        },
      ],
    });
    checks.push(
      { name: `${name}_single`, count: single.length, what: `${r.label}: one point per probe neuron` },
      { name: `${name}_ens`, count: 1, what: `${r.label}: the ensemble line` },
      { name: `${name}_rule0`, count: 1, what: `${r.label}: the model's top-1 baseline` },
      { name: `${name}_rule1`, count: 1, what: `${r.label}: chance` },
    );
  });
  if (notes.length) {
    panels.push(notePanel('ingp_notes', notes));
    checks.push({ name: 'ingp_notes', count: notes.length, what: 'one note per run without probes' });
  }
  const drawn = withFile.filter((r) => fileOf(r)!.probes?.status === 'done');
  const caption = html`The "-ing" neurons as probes (paper §5.3, Figs. 9/12a). Neurons are selected from their weights alone: the difference between the mean of W<sub>U</sub>·w<sub>out</sub> over "-ing" tokens and over the other tokens (next figure). \
Each probe neuron's activation at the last of 24 context tokens before a verb feeds a logistic probe: is the verb an "-ing" form or another form of the same verbs (dataset built from the run's corpus without a tagger)? \
Points: one probe per neuron, coloured by its vocabulary class (suppression, prediction or neither), placed in order of single-probe training accuracy; blue line: one probe on the first k of those neurons; red dashed: the model's own top-1 (its next token ends in "-ing" exactly when the verb does); grey dotted: chance. \
Accuracies are on a held-out stratified split. \
${notes.length ? `Not drawn: ${notes.join('; ')}. ` : ''}\
${dataSentence(withFile)} ${choicesSentence(drawn.length ? drawn : withFile, (r) => fileOf(r)?.choices, ['weights', 'kind'])}${absentSentence(absent, 'ing-probe.json')}`;
  return {
    id: 'fig-ing-probe',
    title: '"-ing" neuron probes: accuracy by neuron and by ensemble size',
    caption,
    spec: { $schema: VL_SCHEMA, config: VL_CONFIG, vconcat: panels, resolve: { scale: { color: 'independent' } } } as never,
    table: { columns: ['model', 'probe', 'k', 'neuron', 'selection_rank', 'kind', 'heldout_accuracy', 'train_accuracy'], rows: table },
    checks,
    absent,
  };
};

export const ingNeuronHistograms: FigureBuilder = (runs) => {
  const usable = runs.filter((r) => fileOf(r)?.histograms?.length && fileOf(r)?.selection);
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const panels: Array<Record<string, unknown>> = [];
  const checks: MarkCheck[] = [];
  const table: Array<Array<string | number | null>> = [];
  usable.forEach((r, i) => {
    const f = fileOf(r)!;
    const byKey = new Map(f.selection!.neurons.map((n) => [label(n), n]));
    const rows: Array<Record<string, unknown>> = [];
    f.histograms!.forEach((h, order) => {
      const key = label(h);
      const n = byKey.get(key);
      const bins = h.ing.length, width = (h.hi - h.lo) / bins;
      for (const [cls, counts] of [['-ing tokens', h.ing], ['other tokens', h.other]] as const)
        counts.forEach((count, b) => {
          if (count > 0) rows.push({ panel: `${order + 1}. ${key}`, order, cls, count, x0: h.lo + b * width, x1: h.lo + (b + 1) * width });
        });
      if (n) table.push([r.label, n.rank, n.layer, n.neuron, num(n.score), num(n.diff), num(n.mean_ing), num(n.mean_other), n.kind, num(n.kurtosis), num(n.skew)]);
    });
    const name = `ingh${i}`;
    panels.push({
      title: panelTitle(`${r.label}: top ${f.histograms!.length} neurons by |mean "-ing" − mean other| (${f.selection!.ranked_over === 'all' ? 'all neurons ranked: too few candidates' : `${fmtInt(f.selection!.candidates)} candidates`})`, [r]),
      data: { values: rows },
      columns: 6,
      facet: { field: 'panel', type: 'ordinal', sort: { field: 'order' }, header: { title: null, labelFontSize: 11 } },
      spec: {
        width: 96,
        height: 70,
        mark: { type: 'rect', opacity: 0.6 },
        name: `${name}_bars`,
        encoding: {
          x: { field: 'x0', type: 'quantitative', axis: { title: null, tickCount: 3, labelFontSize: 9 } },
          x2: { field: 'x1' },
          y: { field: 'count', type: 'quantitative', scale: { type: 'log', domainMin: 0.5 }, axis: { title: null, tickCount: 3, labelFontSize: 9, format: '~s' } },
          y2: { datum: 0.5 },
          color: { field: 'cls', type: 'nominal', scale: { domain: Object.keys(CLASS_COLORS), range: Object.values(CLASS_COLORS) }, legend: { title: null, orient: 'top', symbolType: 'square', symbolSize: 120 } },
          tooltip: [{ field: 'panel', title: 'neuron' }, { field: 'cls' }, { field: 'x0', title: 'from', format: '.3g' }, { field: 'x1', title: 'to', format: '.3g' }, { field: 'count' }],
        },
      },
      resolve: { scale: { x: 'independent', y: 'independent' } },
    });
    checks.push({ name: `${name}_bars`, count: rows.length, what: `${r.label}: one bar per non-empty bin and token class` });
  });
  const skippedProbes = usable.map(probesSkippedReason).filter((x): x is string => x !== undefined);
  const caption = html`Fig. 21 of the paper: for each of the top neurons by their "-ing" score (mean of W<sub>U</sub>·w<sub>out</sub> over "-ing" tokens minus the mean over the other tokens, ranked by its absolute value), \
the distribution of W<sub>U</sub>·w<sub>out</sub> over the vocabulary, "-ing" tokens and other tokens separately, counts on a log scale. \
A neuron whose "-ing" tokens sit far right raises them (prediction); far left, lowers them (suppression). Panels in rank order, each with its own axes; the table lists the score, its sign and the neuron's vocabulary class. \
${skippedProbes.length ? `No probe accuracies: ${skippedProbes.join('; ')}. ` : ''}\
${choicesSentence(usable, (r) => fileOf(r)?.choices, ['dataset', 'feature', 'probes', 'split', 'baseline'])}${absentSentence(absent, 'ing-probe.json with a selection')}`;
  return {
    id: 'fig-ing-neurons',
    title: '"-ing" neurons: W_U · w_out over "-ing" vs other tokens',
    caption,
    spec: { $schema: VL_SCHEMA, config: VL_CONFIG, vconcat: panels } as never,
    table: { columns: ['model', 'rank', 'layer', 'neuron', 'score', 'diff', 'mean_ing', 'mean_other', 'kind', 'kurtosis', 'skew'], rows: table },
    checks,
    absent,
  };
};
