/**
 * Benchmarks after intervention (paper App. D, Figs. 15-16; Fig. 24 for repeats): lm-eval accuracy
 * (`acc,none`) of each task against the relative depth of the first block touched, one panel per task,
 * bands ±1 standard error (`acc_stderr,none`), dotted lines the unmodified model's accuracy.
 */
import type { EvaluateRow } from '../../results/evaluate-schema.js';
import { absentSentence, choicesSentence, num, stageSentence } from '../captions.js';
import { html, joinHtml, raw, type SafeHtml } from '../safe-html.js';
import { FULL_WIDTH, HALF_WIDTH, modelColorEncoding, VL_CONFIG, VL_SCHEMA } from '../style.js';
import type { FigureBuilder, LoadedRun, MarkCheck } from '../types.js';
import { linePanel, type DepthRow } from './common.js';

const TASK_TITLES: Record<string, string> = { hellaswag: 'HellaSwag', arc_easy: 'ARC-Easy', lambada_openai: 'LAMBADA (OpenAI)' };
const DASH: Record<string, number[]> = { delete: [1, 0], swap: [6, 3] };

const taskTitle = (t: string) => TASK_TITLES[t] ?? t;

/** Tasks in a stable order: the paper's (hellaswag, arc_easy, lambada_openai), then any others. */
function tasksOf(runs: LoadedRun[], kinds: string[]): string[] {
  const seen = new Set(runs.flatMap((r) => r.evaluate!.rows.filter((x) => kinds.includes(x.kind)).map((x) => x.task)));
  return [...Object.keys(TASK_TITLES).filter((t) => seen.has(t)), ...[...seen].filter((t) => !(t in TASK_TITLES)).sort()];
}

function depthRow(r: LoadedRun, x: EvaluateRow, extra: Record<string, unknown>): DepthRow | undefined {
  if (x.acc === null || x.relative_depth === null) return undefined;
  const se = x.acc_stderr ?? 0;
  return { model: r.label, depth: x.relative_depth, y: x.acc, lo: Math.max(0, x.acc - se), hi: Math.min(1, x.acc + se), layer: x.layer, plan: x.plan.join(','), kind: x.kind, n: x.n, ...extra };
}

/** "Task data: arc_easy.jsonl (sha256 …, 2376 of 2376 documents), …", once when every run read the same. */
function taskDataSentence(runs: LoadedRun[]): SafeHtml {
  const one = (r: LoadedRun) =>
    joinHtml(
      r.evaluate!.tasks.map((t) => html`<code>${t.file.split(/[\\/]/).pop() ?? ''}</code> (sha256 <code>${t.sha256.slice(0, 12)}…</code>, ${t.items.toLocaleString('en-US')} of ${t.records.toLocaleString('en-US')} documents)`),
      ', ',
    );
  const texts = runs.map(one);
  if (new Set(texts.map(String)).size === 1) return html`Task data: ${texts[0]}.`;
  return html`Task data: ${joinHtml(runs.map((r, i) => html`${r.label}: ${texts[i]}`), '; ')}.`;
}

/** One figure of task panels for the given intervention kinds (null when no run has such rows). */
function benchmarkFigure(runs: LoadedRun[], kinds: string[], o: { id: string; mark: string; title: string; intro: string }) {
  const usable = runs.filter((r) => r.evaluate?.rows.some((x) => kinds.includes(x.kind)));
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const tasks = tasksOf(usable, kinds);
  const width = tasks.length === 1 ? FULL_WIDTH : HALF_WIDTH;
  const kindDomain = [...new Set(usable.flatMap((r) => r.evaluate!.rows.filter((x) => kinds.includes(x.kind)).map((x) => x.kind)))];
  const repeatLengths = (r: LoadedRun, x: EvaluateRow) => (x.kind === 'repeat' ? `repeat ${x.plan.length - (r.evaluate!.layers)}` : x.kind);
  const panels: Array<Record<string, unknown>> = [];
  const checks: MarkCheck[] = [];
  const tableRows: Array<Array<string | number | null>> = [];
  // One dash per series (kind, or repeat block length) across every panel, so the legends merge.
  const series = [...new Set(usable.flatMap((r) => r.evaluate!.rows.filter((x) => kinds.includes(x.kind)).map((x) => repeatLengths(r, x))))];
  tasks.forEach((task, ti) => {
    const inPanel = usable.filter((r) => r.evaluate!.rows.some((x) => x.task === task && kinds.includes(x.kind)));
    const rows: DepthRow[] = [];
    for (const r of inPanel)
      for (const x of r.evaluate!.rows.filter((y) => y.task === task && kinds.includes(y.kind)).sort((a, b) => (a.layer ?? 0) - (b.layer ?? 0))) {
        const d = depthRow(r, x, { series: repeatLengths(r, x) });
        if (d) rows.push(d);
        tableRows.push([r.label, task, x.kind, x.layer, num(x.relative_depth), x.plan.join(','), x.n, num(x.acc), num(x.acc_stderr), num(x.acc_norm), num(x.perplexity)]);
      }
    const base = inPanel
      .map((r) => ({ r, b: r.evaluate!.rows.find((x) => x.task === task && x.kind === 'baseline') }))
      .filter((e) => e.b && e.b.acc !== null)
      .map((e) => ({ model: e.r.label, baseline: e.b!.acc, stderr: e.b!.acc_stderr }));
    for (const e of base) tableRows.push([e.model, task, 'baseline', null, null, 'all blocks in order', null, num(e.baseline), num(e.stderr), null, null]);
    const name = `${o.mark}_${ti}`;
    const p = linePanel({
      name,
      runs: inPanel,
      rows,
      title: taskTitle(task),
      yTitle: 'accuracy (acc)',
      yFormat: '.0%',
      width,
      height: 190,
      yScale: { zero: false },
      tooltip: [{ field: 'kind' }, { field: 'layer', title: 'first block touched' }, { field: 'plan', title: 'blocks executed' }, { field: 'n', title: 'documents' }],
      dash: { field: 'series', domain: series, range: series.map((s) => DASH[s] ?? [4, 2]), legend: series.length > 1 },
      extra: [
        {
          name: `${name}_base`,
          data: { values: base },
          mark: { type: 'rule', strokeDash: [2, 3], strokeWidth: 1.5 },
          encoding: { y: { field: 'baseline', type: 'quantitative' }, color: modelColorEncoding(inPanel), tooltip: [{ field: 'model' }, { field: 'baseline', title: 'original accuracy', format: '.2%' }, { field: 'stderr', title: '± stderr', format: '.2%' }] },
        },
      ],
    });
    panels.push(p.panel);
    checks.push(...p.checks, { name: `${name}_base`, count: base.length, what: `${task}: the original model's accuracy per model` });
  });
  const baselines = usable
    .map((r) => `${r.label}: ${tasks.map((t) => {
      const b = r.evaluate!.rows.find((x) => x.task === t && x.kind === 'baseline');
      return b && b.acc !== null ? `${t} ${(100 * b.acc).toFixed(1)}% (n = ${b.n})` : '';
    }).filter(Boolean).join(', ')}`)
    .join('; ');
  // `intro` is this module's own markup (a constant); everything else is escaped by the template.
  const caption = html`${raw(o.intro)} Bands: ±1 standard error (lm-eval's acc_stderr: sample std / √n), whatever --sigma says, as the authors' plotting/benchmark.py draws them; dotted lines: the unmodified model. \
Interventions: ${kindDomain.join(', ')}; every plan scored as lm-evaluation-harness scores a model (zero-shot). Original accuracy — ${baselines}. \
${taskDataSentence(usable)} \
${choicesSentence(usable, (r) => r.evaluate?.choices && { harness: r.evaluate.choices.harness, bos_rule: r.evaluate.choices.bos_rule, limit: r.evaluate.choices.limit })}\
${stageSentence(usable)}${absentSentence(absent, 'evaluate.json with these interventions')}`;
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, concat: panels, columns: tasks.length === 1 ? 1 : 2, resolve: { scale: { color: 'shared', strokeDash: 'shared' }, legend: { fill: 'independent' } } };
  return {
    id: o.id,
    title: o.title,
    caption,
    spec: spec as never,
    table: { columns: ['model', 'task', 'kind', 'layer', 'relative_depth', 'blocks_executed', 'n', 'acc', 'acc_stderr', 'acc_norm', 'perplexity'], rows: tableRows },
    checks,
    absent,
  };
}

export const benchmarks: FigureBuilder = (runs) =>
  benchmarkFigure(runs, ['delete', 'swap'], {
    id: 'fig-benchmarks',
    mark: 'bench',
    title: 'Benchmarks after deleting or swapping a layer (paper Figs. 15-16)',
    intro: 'Benchmark accuracy after <b>deleting</b> block ℓ (solid) or <b>swapping</b> blocks ℓ and ℓ+1 (dashed), at relative depth ℓ / (L − 1), one panel per task.',
  });

export const benchmarkRepeat: FigureBuilder = (runs) =>
  benchmarkFigure(runs, ['repeat'], {
    id: 'fig-benchmark-repeat',
    mark: 'benchrep',
    title: 'Benchmarks after repeating layers (paper Fig. 24)',
    intro: 'Benchmark accuracy when a block of consecutive layers, starting at the given relative depth, is executed twice in a row (each layer run twice; paper Fig. 24 shows Qwen on HellaSwag with 5-layer blocks), one panel per task.',
  });
