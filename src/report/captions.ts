/**
 * Pieces of figure captions: the data each run read, the choices a file records, who lacks the data.
 * Captions are `SafeHtml` built with the `html` template (./safe-html.ts): every value from a run folder
 * is escaped where it is interpolated.
 */
import { html, joinHtml, type SafeHtml } from './safe-html.js';
import type { LoadedRun } from './types.js';

/** A count with thousands separators; '?' when the file has no usable number there. */
export function fmtInt(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '?';
}

/** A choice value in words: lists joined, objects as compact JSON. */
export function fmtValue(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function basenameOf(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

/** "Data: file (sha256 …, N documents, …)", once when every run read the same data, else per run. */
export function dataSentence(runs: LoadedRun[]): SafeHtml {
  const one = (r: LoadedRun): SafeHtml => {
    const d = r.data;
    if (!d) return html`data not recorded (no manifest data block)`;
    const parts = [
      html`sha256 <code>${String(d.sha256).slice(0, 12)}…</code>`,
      html`${fmtInt(d.documents)} documents`,
      html`${fmtInt(d.windows)} windows of ≤ ${fmtInt(d.seq_len)} tokens`,
      html`${fmtInt(d.tokens)} scored tokens`,
    ];
    if (d.max_tokens !== undefined) parts.push(html`<span class="nowrap">--max-tokens ${fmtInt(d.max_tokens)}</span>`);
    if (d.max_docs !== undefined) parts.push(html`<span class="nowrap">--max-docs ${fmtInt(d.max_docs)}</span>`);
    return html`<code>${basenameOf(String(d.file))}</code> (${String(d.format)}; ${joinHtml(parts, ', ')})`;
  };
  if (runs.length === 0) return html``;
  const keys = new Set(runs.map((r) => (r.data ? `${r.data.sha256}|${r.data.tokens}|${r.data.seq_len}` : 'none')));
  if (keys.size === 1) return html`Data: ${one(runs[0]!)}.`;
  return html`Data: ${joinHtml(runs.map((r) => html`${r.label}: ${one(r)}`), '; ')}.`;
}

/** Choices of one file per run ("Choices: k = v; …"), merged when every run made the same ones. */
export function choicesSentence(runs: LoadedRun[], get: (r: LoadedRun) => Record<string, unknown> | undefined, skip: string[] = []): SafeHtml {
  const fmt = (c: Record<string, unknown> | undefined): SafeHtml => {
    if (!c || typeof c !== 'object') return html`not recorded`;
    const entries = Object.entries(c).filter(([k]) => !skip.includes(k));
    if (entries.length === 0) return html`none recorded`;
    return joinHtml(entries.map(([k, v]) => html`${k} = <code>${fmtValue(v)}</code>`), '; ');
  };
  const texts = runs.map((r) => fmt(get(r)));
  if (texts.length === 0) return html``;
  if (new Set(texts.map(String)).size === 1) return html`Choices: ${texts[0]}.`;
  return html`Choices: ${joinHtml(runs.map((r, i) => html`${r.label}: ${texts[i]}`), ' | ')}.`;
}

/** "Not shown for X, Y (no file.json)." or ''. */
export function absentSentence(absent: string[], what: string): SafeHtml {
  return absent.length ? html` <span class="absent">Not shown for ${absent.join(', ')} (no ${what}).</span>` : html``;
}

/** The stage-band sentence every depth plot carries. */
export function stageSentence(runs: LoadedRun[]): SafeHtml {
  const withStages = runs.filter((r) => r.stages.stages);
  const without = runs.filter((r) => !r.stages.stages).map((r) => r.label);
  if (withStages.length === 0) return html` No stage boundaries are drawn (no run has stages.json).`;
  const b = withStages
    .map((r) => {
      const st = r.stages.stages!;
      const list = [...st.boundaries].sort((a, c) => a.stage - c.stage).map((x) => `${x.stage}: layer ${x.layer} (${x.relative_depth.toFixed(2)})`);
      return `${r.label} — ${list.join(', ')}`;
    })
    .join('; ');
  const how =
    withStages.length === 1
      ? ' Stages (stages.json; 1 detokenization, 2 feature engineering, 3 prediction ensembling, 4 residual calibration, called residual sharpening before the camera-ready): stages 2 and 4 shaded, boundaries dashed'
      : ' Stages (stages.json; 1 detokenization, 2 feature engineering, 3 prediction ensembling, 4 residual calibration, called residual sharpening before the camera-ready): one numbered track per model above each plot (stages 2 and 4 darker), boundaries dashed in the model\'s color';
  return html`${how}; an edge lies halfway between the last layer of one stage and the first of the next. First layers: ${b}.${
    without.length ? html` No boundaries for ${without.join(', ')} (no stages.json).` : ''
  }`;
}

/** Number formatting for tables and CSV: up to 6 significant digits, integers as they are. */
export function num(v: number | null | undefined): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  if (Number.isInteger(v)) return v;
  return Number(v.toPrecision(6));
}

/**
 * The closing sentences most captions share: the data, the run choices, the stage boundaries drawn, and
 * the runs left out for lack of `what`.
 */
export function captionTail(runs: LoadedRun[], choicesOf: (r: LoadedRun) => Record<string, unknown> | undefined, absent: string[], what: string): SafeHtml {
  return html`${dataSentence(runs)} ${choicesSentence(runs, choicesOf)}${stageSentence(runs)}${absentSentence(absent, what)}`;
}

/** What the error bands of a figure show, for its caption (the --sigma of the report). */
export function sigmaPhrase(sigma: 'sem' | 'std'): string {
  return sigma === 'std'
    ? 'Bands: ±1 standard deviation across documents (the spread of the per-document means, as the paper\'s 1σ bands; --sigma std)'
    : 'Bands: ±1 standard error of the mean across documents (the uncertainty of the plotted mean; --sigma sem)';
}
