/** Pieces of figure captions: the data each run read, the choices a file records, who lacks the data. */
import type { LoadedRun } from './types.js';

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function fmtInt(n: number | undefined): string {
  return n === undefined ? '?' : n.toLocaleString('en-US');
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
export function dataSentence(runs: LoadedRun[]): string {
  const one = (r: LoadedRun) => {
    const d = r.data;
    if (!d) return 'data not recorded (no manifest data block)';
    const parts = [
      `sha256 <code>${esc(d.sha256.slice(0, 12))}…</code>`,
      `${fmtInt(d.documents)} documents`,
      `${fmtInt(d.windows)} windows of ≤ ${fmtInt(d.seqLen)} tokens`,
      `${fmtInt(d.tokens)} scored tokens`,
    ];
    if (d.maxTokens !== undefined) parts.push(`<span class="nowrap">--max-tokens ${fmtInt(d.maxTokens)}</span>`);
    if (d.maxDocs !== undefined) parts.push(`<span class="nowrap">--max-docs ${fmtInt(d.maxDocs)}</span>`);
    return `<code>${esc(basenameOf(d.file))}</code> (${d.format}; ${parts.join(', ')})`;
  };
  if (runs.length === 0) return '';
  const keys = new Set(runs.map((r) => (r.data ? `${r.data.sha256}|${r.data.tokens}|${r.data.seqLen}` : 'none')));
  if (keys.size === 1) return `Data: ${one(runs[0]!)}.`;
  return `Data: ${runs.map((r) => `${esc(r.label)}: ${one(r)}`).join('; ')}.`;
}

/** Choices of one file per run ("Choices: k = v; …"), merged when every run made the same ones. */
export function choicesSentence(runs: LoadedRun[], get: (r: LoadedRun) => Record<string, unknown> | undefined, skip: string[] = []): string {
  const fmt = (c: Record<string, unknown> | undefined) => {
    if (!c) return 'not recorded';
    const entries = Object.entries(c).filter(([k]) => !skip.includes(k));
    if (entries.length === 0) return 'none recorded';
    return entries.map(([k, v]) => `${esc(k)} = <code>${esc(fmtValue(v))}</code>`).join('; ');
  };
  const texts = runs.map((r) => fmt(get(r)));
  if (texts.length === 0) return '';
  if (new Set(texts).size === 1) return `Choices: ${texts[0]}.`;
  return `Choices: ${runs.map((r, i) => `${esc(r.label)}: ${texts[i]}`).join(' | ')}.`;
}

/** "Not shown for X, Y (no file.json)." or ''. */
export function absentSentence(absent: string[], what: string): string {
  return absent.length ? ` <span class="absent">Not shown for ${absent.map(esc).join(', ')} (no ${esc(what)}).</span>` : '';
}

/** The stage-band sentence every depth plot carries. */
export function stageSentence(runs: LoadedRun[]): string {
  const withStages = runs.filter((r) => r.stages.stages);
  const without = runs.filter((r) => !r.stages.stages).map((r) => r.label);
  if (withStages.length === 0) return ' No stage boundaries are drawn (no run has stages.json).';
  const b = withStages
    .map((r) => {
      const st = r.stages.stages!;
      const list = [...st.boundaries].sort((a, c) => a.stage - c.stage).map((x) => `${x.stage}: layer ${x.layer} (${x.relativeDepth.toFixed(2)})`);
      return `${esc(r.label)} — ${list.join(', ')}`;
    })
    .join('; ');
  const how =
    withStages.length === 1
      ? ' Stages (stages.json; 1 detokenization, 2 feature engineering, 3 prediction ensembling, 4 residual calibration, called residual sharpening before the camera-ready): stages 2 and 4 shaded, boundaries dashed'
      : ' Stages (stages.json; 1 detokenization, 2 feature engineering, 3 prediction ensembling, 4 residual calibration, called residual sharpening before the camera-ready): one numbered track per model above each plot (stages 2 and 4 darker), boundaries dashed in the model\'s color';
  return (
    `${how}; an edge lies halfway between the last layer of one stage and the first of the next. First layers: ${b}.` +
    (without.length ? ` No boundaries for ${without.map(esc).join(', ')} (no stages.json).` : '')
  );
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
export function captionTail(runs: LoadedRun[], choicesOf: (r: LoadedRun) => Record<string, unknown> | undefined, absent: string[], what: string): string {
  return `${dataSentence(runs)} ${choicesSentence(runs, choicesOf)}` + stageSentence(runs) + absentSentence(absent, what);
}
