/**
 * Probe accuracy by depth: WiC (wic.json) and, when run, the general span probe (probe.json) — a
 * logistic probe on each point of the residual stream, train and held-out accuracy.
 */
import { absentSentence, choicesSentence, num, stageSentence } from '../captions.js';
import { html } from '../safe-html.js';
import { FULL_WIDTH, VL_CONFIG, VL_SCHEMA } from '../style.js';
import type { FigureBuilder, LoadedRun, MarkCheck } from '../types.js';
import { linePanel, type DepthRow } from './common.js';

const SOURCES = [
  { key: 'wic', title: 'WiC (Word-in-Context)', file: 'wic.json' },
  { key: 'probe', title: 'Span probe (--probe FILE)', file: 'probe.json' },
] as const;

export const probeAccuracy: FigureBuilder = (runs) => {
  const fileOf = (r: LoadedRun, k: 'wic' | 'probe') => r.stages[k];
  const doneOf = (r: LoadedRun, k: 'wic' | 'probe') => fileOf(r, k)?.status === 'done' && (fileOf(r, k)?.per_point?.length ?? 0) > 0;
  const withFile = runs.filter((r) => r.stages.wic || r.stages.probe);
  if (withFile.length === 0) return undefined;
  const absent = runs.filter((r) => !r.stages.wic).map((r) => r.label);
  const checks: MarkCheck[] = [];
  const panels: Array<Record<string, unknown>> = [];
  const table: Array<Array<string | number | null>> = [];
  const skippedNotes: Array<{ text: string; i: number }> = [];
  const plottedRuns: LoadedRun[] = [];
  for (const src of SOURCES) {
    const usable = runs.filter((r) => doneOf(r, src.key));
    for (const r of runs.filter((x) => fileOf(x, src.key)?.status === 'skipped'))
      skippedNotes.push({ text: `${r.label}: ${src.key} probe skipped — ${fileOf(r, src.key)!.reason ?? 'no reason given'}`, i: skippedNotes.length });
    if (usable.length === 0) continue;
    plottedRuns.push(...usable.filter((r) => !plottedRuns.includes(r)));
    const rows: DepthRow[] = [];
    for (const r of usable)
      for (const p of fileOf(r, src.key)!.per_point!) {
        rows.push({ model: r.label, split: 'held-out', depth: p.relative_depth, y: p.dev_accuracy, point: p.point, l2: p.l2 });
        rows.push({ model: r.label, split: 'train', depth: p.relative_depth, y: p.train_accuracy, point: p.point, l2: p.l2 });
        table.push([r.label, src.key, p.point, num(p.relative_depth), num(p.train_accuracy), num(p.dev_accuracy), num(p.l2), num(fileOf(r, src.key)!.chance ?? null)]);
      }
    const chance = usable.filter((r) => fileOf(r, src.key)!.chance !== undefined).map((r) => ({ model: r.label, chance: fileOf(r, src.key)!.chance!, color: r.color }));
    const name = `probe_${src.key}`;
    const p = linePanel({
      name,
      runs: usable,
      rows,
      title: src.title,
      yTitle: 'probe accuracy',
      width: FULL_WIDTH,
      height: 210,
      yFormat: '.0%',
      dash: { field: 'split', domain: ['held-out', 'train'], range: [[1, 0], [5, 3]] },
      tooltip: [{ field: 'split' }, { field: 'point', title: 'point (0 = embeddings)' }, { field: 'l2', title: 'L2 penalty', format: '.3g' }],
      extra: chance.length
        ? [
            {
              name: `${name}_chance`,
              data: { values: chance },
              mark: { type: 'rule', strokeDash: [2, 2], strokeWidth: 1.5 },
              encoding: { y: { field: 'chance', type: 'quantitative' }, stroke: { field: 'color', type: 'nominal', scale: null }, tooltip: [{ field: 'model' }, { field: 'chance', format: '.1%' }] },
            },
          ]
        : [],
    });
    panels.push(p.panel);
    checks.push(...p.checks);
    if (chance.length) checks.push({ name: `${name}_chance`, count: chance.length, what: 'chance level per model' });
  }
  if (skippedNotes.length && panels.length === 0) {
    panels.push({
      name: 'probe_skipped',
      width: FULL_WIDTH,
      height: 22 * skippedNotes.length,
      data: { values: skippedNotes },
      mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 13, color: '#8a5a00', limit: FULL_WIDTH },
      encoding: { x: { value: 4 }, y: { field: 'i', type: 'ordinal', axis: null }, text: { field: 'text' } },
    });
    checks.push({ name: 'probe_skipped', count: skippedNotes.length, what: 'one note per skipped probe' });
  }
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, vconcat: panels, resolve: { scale: { color: 'shared', strokeDash: 'shared' } } };
  const examples = plottedRuns
    .map((r) => {
      const e = r.stages.wic?.examples;
      return e ? `${r.label}: ${e.train} train / ${e.dev} dev pairs` : '';
    })
    .filter(Boolean);
  const caption = html`Linear probes on the residual stream at each point (0 = token embeddings, i = after block i − 1; relative depth i / L). \
<b>WiC</b>: a logistic-regression probe on the target word's representations in the two sentences predicts whether the word has the same meaning in both\
${examples.length ? ` (${examples.join('; ')})` : ''}\
. Solid: accuracy on held-out examples (WiC dev split); dashed: train accuracy; dotted: chance (majority class). The L2 penalty is chosen per point by validation (tooltip). \
${skippedNotes.length ? `Skipped: ${skippedNotes.map((n) => n.text).join('; ')}. ` : ''}\
${choicesSentence(plottedRuns.length ? plottedRuns : withFile, (r) => (r.stages.wic ?? r.stages.probe)?.choices)}\
${plottedRuns.length ? stageSentence(plottedRuns) : ''}${absentSentence(absent, 'wic.json')}`;
  return {
    id: 'fig-probe',
    title: 'Probe accuracy by depth (WiC)',
    caption,
    spec: spec as never,
    table: { columns: ['model', 'probe', 'point', 'relative_depth', 'train_accuracy', 'heldout_accuracy', 'l2', 'chance'], rows: table },
    checks,
    absent,
  };
};
