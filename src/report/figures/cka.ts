/**
 * CKA heatmaps: linear CKA between the outputs of every pair of blocks, per model (last-token and/or
 * all-token representations), both axes on relative depth, with the proposed stage boundaries drawn.
 */
import { absentSentence, choicesSentence, dataSentence, num } from '../captions.js';
import { html } from '../safe-html.js';
import { VL_CONFIG, VL_SCHEMA, stageSegments } from '../style.js';
import type { FigureBuilder, LoadedRun, MarkCheck } from '../types.js';

const SIZE = 300;

function matrices(r: LoadedRun): Array<{ which: 'last token' | 'all tokens'; matrix: Array<Array<number | null>>; note: string }> {
  const c = r.stages.cka;
  if (!c) return [];
  const out: Array<{ which: 'last token' | 'all tokens'; matrix: Array<Array<number | null>>; note: string }> = [];
  if (c.last_token) out.push({ which: 'last token', matrix: c.last_token.matrix, note: `${c.last_token.batches} batches of ${c.last_token.batch_size}` });
  if (c.all_tokens) out.push({ which: 'all tokens', matrix: c.all_tokens.matrix, note: `${c.all_tokens.batches} batches` });
  return out;
}

export const ckaHeatmaps: FigureBuilder = (runs) => {
  const usable = runs.filter((r) => matrices(r).length > 0);
  if (usable.length === 0) return undefined;
  const absent = runs.filter((r) => !usable.includes(r)).map((r) => r.label);
  const table: Array<Array<string | number | null>> = [];
  const checks: MarkCheck[] = [];
  const panels: Array<Record<string, unknown>> = [];
  let k = 0;
  for (const r of usable) {
    for (const m of matrices(r)) {
      const L = m.matrix.length;
      const h = L > 1 ? 0.5 / (L - 1) : 0.5;
      const d = (i: number) => (L > 1 ? i / (L - 1) : 0);
      const cells: Array<Record<string, unknown>> = [];
      for (let i = 0; i < L; i++)
        for (let j = 0; j < L; j++) {
          const v = m.matrix[i]![j]!;
          cells.push({ i, j, x0: d(j) - h, x1: d(j) + h, y0: d(i) - h, y1: d(i) + h, cka: v, di: d(i), dj: d(j) });
          table.push([r.label, m.which, i, j, num(d(i)), num(d(j)), num(v)]);
        }
      const name = `cka_p${k++}`;
      checks.push({ name: `${name}_cells`, count: L * L, what: `${r.label} ${m.which}: L x L cells` });
      const segs = stageSegments(r).filter((s) => s.stage > 1);
      const scale = { domain: [-h, 1 + h], nice: false, zero: false };
      const axis = (title: string) => ({ title, values: [0, 0.2, 0.4, 0.6, 0.8, 1], format: '.1f', grid: false });
      const layers: Array<Record<string, unknown>> = [
        {
          name: `${name}_cells`,
          data: { values: cells },
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'x0', type: 'quantitative', scale, axis: axis('relative depth (block)') },
            x2: { field: 'x1' },
            y: { field: 'y0', type: 'quantitative', scale: { ...scale, reverse: true }, axis: axis('relative depth (block)') },
            y2: { field: 'y1' },
            color: { field: 'cka', type: 'quantitative', scale: { scheme: 'viridis', domain: [0, 1] }, legend: { title: 'CKA', orient: 'right', direction: 'vertical', gradientLength: SIZE - 40 } },
            tooltip: [
              { field: 'i', title: 'block (row)' },
              { field: 'j', title: 'block (column)' },
              { field: 'cka', title: 'CKA', format: '.3f' },
            ],
          },
        },
      ];
      if (segs.length) {
        checks.push({ name: `${name}_stagex`, count: segs.length, what: `${r.label}: stage boundaries` });
        layers.push(
          {
            name: `${name}_stagex`,
            data: { values: segs },
            mark: { type: 'rule', stroke: 'white', strokeDash: [4, 3], strokeWidth: 1.2, opacity: 0.9 },
            encoding: { x: { field: 'x0', type: 'quantitative' } },
          },
          {
            name: `${name}_stagey`,
            data: { values: segs },
            mark: { type: 'rule', stroke: 'white', strokeDash: [4, 3], strokeWidth: 1.2, opacity: 0.9 },
            encoding: { y: { field: 'x0', type: 'quantitative' } },
          },
          {
            name: `${name}_stagelabel`,
            data: { values: stageSegments(r).map((s) => ({ ...s, mid: (s.x0 + s.x1) / 2, text: (s.x1 - s.x0) * SIZE > 12 ? String(s.stage) : '' })).filter((s) => s.text) },
            mark: { type: 'text', baseline: 'bottom', fontSize: 10, fontWeight: 600, dy: -4, fill: r.color },
            encoding: { x: { field: 'mid', type: 'quantitative' }, y: { value: 0 }, text: { field: 'text' }, tooltip: [{ field: 'name', title: 'stage' }, { field: 'layers' }] },
          },
        );
      }
      panels.push({ title: { text: `${r.label} — ${m.which} (L = ${L})`, color: r.color }, width: SIZE, height: SIZE, layer: layers });
    }
  }
  const spec = { $schema: VL_SCHEMA, config: VL_CONFIG, concat: panels, columns: 2, resolve: { scale: { color: 'shared' } } };
  const notes = usable.map((r) => `${r.label}: ${matrices(r).map((m) => `${m.which} (${m.note})`).join(', ')}`).join('; ');
  const caption = html`Linear centered kernel alignment (CKA) between the residual-stream outputs of every pair of blocks i, j (both axes: relative depth of the block, block 0 at the top left). \
1 means the two layers' representations are identical up to rotation and scale. <b>Last token</b>: the representation of each window's last token; <b>all tokens</b>: every token position. \
Accumulated over batches (${notes}). Dashed white lines and the numbers on top: proposed stage boundaries (stages.json), where present. \
${dataSentence(usable)} ${choicesSentence(usable, (r) => r.stages.cka?.choices)}${absentSentence(absent, 'cka.json')}`;
  return {
    id: 'fig-cka',
    title: 'Representation similarity between layers (CKA)',
    caption,
    spec: spec as never,
    table: { columns: ['model', 'tokens', 'block_i', 'block_j', 'relative_depth_i', 'relative_depth_j', 'cka'], rows: table },
    checks,
    absent,
  };
};
