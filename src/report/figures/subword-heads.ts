/**
 * The sub-word (detokenization) head: per model, every head's score on relative depth, and the best
 * head's attention from the last sub-token of a word to the preceding keys, for multi-token words and
 * for single-token controls.
 */
import { captionTail, num } from '../captions.js';
import { html } from '../safe-html.js';
import { VL_CONFIG, VL_SCHEMA, depthX, panelTitle, stageItemCounts, stageLayers } from '../style.js';
import type { FigureBuilder, LoadedRun, MarkCheck } from '../types.js';

const SCATTER_W = 660;
const HEAT_W = 290;
const MAX_ROWS = 14;

/**
 * Index (into `tokens`) of the word's first sub-token: walking back from the last token, the first
 * position where the joined tokens spell the word (leading space / ▁ / Ġ markers ignored). The file's
 * `tokens` are the last keys before and including the query, aligned with the end of `attention`.
 */
export function firstSubtoken(word: string, tokens: string[]): number | undefined {
  const clean = (t: string) => t.replace(/^[\s\u2581\u0120]+/, '');
  let acc = '';
  for (let i = tokens.length - 1; i >= 0; i--) {
    acc = tokens[i]! + acc;
    if (clean(acc) === word) return i;
    if (clean(acc).length > word.length) return undefined;
  }
  return undefined;
}

function heatRows(r: LoadedRun, which: 'multi' | 'single') {
  const hm = r.stages['subword-heads']!.heatmap;
  const examples = hm[which].slice(0, MAX_ROWS);
  const cells: Array<Record<string, unknown>> = [];
  const seen = new Map<string, number>();
  examples.forEach((ex, row) => {
    const n = (seen.get(ex.word) ?? 0) + 1;
    seen.set(ex.word, n);
    const label = n > 1 ? `${ex.word} (${n})` : ex.word;
    const att = ex.attention.slice(-hm.width);
    const shift = att.length - ex.tokens.length;
    // the word's sub-token count: 1 for single-token words; for multi-token words the file's choice
    // when it is one number, else found by spelling the word from the end
    const counts = r.stages['subword-heads']!.choices.multi_token_counts;
    const k = which === 'single' ? 1 : Array.isArray(counts) && counts.length === 1 && typeof counts[0] === 'number' ? counts[0] : undefined;
    const first = k !== undefined && ex.tokens.length >= k ? ex.tokens.length - k : firstSubtoken(ex.word, ex.tokens);
    att.forEach((a, j) => {
      const ti = j - shift;
      const key = ti >= 0 && ti < ex.tokens.length ? ex.tokens[ti]! : '';
      cells.push({
        model: r.label,
        which,
        row,
        word: label,
        offset: j - (att.length - 1),
        key,
        short: key.replace(/^\s/, '·').slice(0, 4),
        first: first !== undefined && ti === first,
        attention: a,
      });
    });
  });
  return cells;
}

export const subwordHeads: FigureBuilder = (runs) => {
  const usable = runs.filter((r) => r.stages['subword-heads']);
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const checks: MarkCheck[] = [];
  const table: Array<Array<string | number | null>> = [];
  const panels: Array<Record<string, unknown>> = [];
  usable.forEach((r, i) => {
    const f = r.stages['subword-heads']!;
    const L = f.layers;
    const heads = f.heads.map((h) => ({ model: r.label, layer: h.layer, head: h.head, score: h.score, depth: L > 1 ? h.layer / (L - 1) : 0, multi: h.multi.mean, single: h.single.mean, best: h.layer === f.heatmap.layer && h.head === f.heatmap.head }));
    for (const h of heads) table.push([r.label, 'head score', h.layer, h.head, num(h.depth), num(h.score), num(h.multi), num(h.single), null, null]);
    const name = `sw_m${i}`;
    const st = stageItemCounts([r], SCATTER_W);
    checks.push({ name: `${name}_heads`, count: heads.length, what: `${r.label}: one point per head` });
    if (st.bands) checks.push({ name: `${name}_stageband`, count: st.bands, what: `${r.label}: stage bands` });
    const scatter = {
      title: panelTitle(`${r.label}: all heads`, [r], { color: r.color }),
      width: SCATTER_W,
      height: 150,
      layer: [
        ...stageLayers([r], SCATTER_W, name),
        {
          name: `${name}_heads`,
          data: { values: heads },
          mark: { type: 'point', filled: true, size: 26, opacity: 0.75 },
          encoding: {
            x: depthX('depth', 'relative depth'),
            y: { field: 'score', type: 'quantitative', axis: { title: 'score (multi − single)', tickCount: 5 } },
            color: { condition: { test: 'datum.best', value: '#111' }, value: r.color },
            size: { condition: { test: 'datum.best', value: 70 }, value: 22 },
            tooltip: [{ field: 'layer' }, { field: 'head' }, { field: 'score', format: '.3f' }, { field: 'multi', title: 'multi-token mean', format: '.3f' }, { field: 'single', title: 'single-token mean', format: '.3f' }],
          },
        },
      ],
    };
    const heat = (which: 'multi' | 'single') => {
      const cells = heatRows(r, which);
      for (const c of cells) table.push([r.label, `attention (${which})`, f.heatmap.layer, f.heatmap.head, null, null, null, null, `${c.word as string} @ ${c.offset as number}`, num(c.attention as number)]);
      const hn = `${name}_${which}`;
      checks.push({ name: `${hn}_cells`, count: cells.length, what: `${r.label}: ${which}-token heatmap cells` });
      const firsts = cells.filter((c) => c.first).length;
      if (firsts) checks.push({ name: `${hn}_first`, count: firsts, what: `${r.label}: ${which}-token words, first sub-token outlined` });
      const words = [...new Set(cells.map((c) => c.word as string))];
      const x = { field: 'offset', type: 'ordinal', axis: { title: 'key position relative to the query (0 = last sub-token)', labelAngle: 0, labelOverlap: 'parity' } };
      const y = { field: 'word', type: 'nominal', sort: words, axis: { title: null, labelLimit: 130 } };
      return {
        title: { text: which === 'multi' ? `head L${f.heatmap.layer}H${f.heatmap.head}: multi-token words` : `head L${f.heatmap.layer}H${f.heatmap.head}: single-token words`, fontSize: 12 },
        width: HEAT_W,
        height: Math.max(60, words.length * 18),
        layer: [
          {
            name: `${hn}_cells`,
            data: { values: cells },
            mark: { type: 'rect' },
            encoding: {
              x,
              y,
              color: { field: 'attention', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, legend: { title: 'attention', orient: 'right', direction: 'vertical', gradientLength: 120 } },
              tooltip: [{ field: 'word' }, { field: 'offset' }, { field: 'key', title: 'key token' }, { field: 'attention', format: '.3f' }],
            },
          },
          {
            name: `${hn}_tokens`,
            data: { values: cells.filter((c) => c.short) },
            mark: { type: 'text', fontSize: 8.5, baseline: 'middle' },
            encoding: { x, y, text: { field: 'short' }, color: { condition: { test: 'datum.attention > 0.5', value: 'white' }, value: '#333' } },
          },
          {
            name: `${hn}_first`,
            data: { values: cells.filter((c) => c.first) },
            mark: { type: 'rect', fill: null, stroke: '#d1495b', strokeWidth: 1.5 },
            encoding: { x, y },
          },
        ],
      };
    };
    panels.push({ vconcat: [scatter, { hconcat: [heat('multi'), heat('single')], resolve: { scale: { color: 'shared' } } }], resolve: { scale: { color: 'independent' } } });
  });
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, vconcat: panels, spacing: 24 };
  const ex = usable.map((r) => {
    const e = r.stages['subword-heads']!.examples;
    return `${r.label}: ${e.multi} multi-token words (${e.multi_tokens} sub-tokens), ${e.single} single-token words`;
  });
  const rules = usable.map((r) => `${r.label}: ${r.stages['subword-heads']!.heatmap.rule ?? 'the best-scoring head'}`);
  const caption = html`Sub-word merging heads. Top: every attention head, by relative depth of its layer; score = mean attention from the last sub-token of a multi-token word to its first sub-token, \
minus the same quantity for single-token words (where the "first sub-token" is the token itself); the head drawn below is black. \
Head drawn below — ${rules.join('; ')}. \
Below: that head's attention from the last sub-token (position 0) to the preceding keys, one row per example word (at most ${MAX_ROWS} shown), key tokens written in the cells (· = leading space); \
the red outline marks each word's first sub-token. Examples: ${ex.join('; ')}. \
${captionTail(usable, (r) => r.stages['subword-heads']?.choices, absent, 'subword-heads.json')}`;
  return {
    id: 'fig-subword-heads',
    title: 'Sub-word heads (detokenization)',
    caption,
    spec: spec as never,
    table: { columns: ['model', 'quantity', 'layer', 'head', 'relative_depth', 'score', 'multi_mean', 'single_mean', 'example @ offset', 'attention'], rows: table },
    checks,
    absent,
  };
};
