/**
 * A synthetic `layerlab evaluate` run folder (manifest.json + evaluate.json following
 * src/results/evaluate-schema.ts) for the report tests: accuracies that dip when the first and last
 * blocks are touched, as in the paper's Figs. 15-16. Seeded, so every test sees the same numbers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../src/analyses/math/prng.js';
import type { EvaluateResult, EvaluateRow } from '../../src/results/evaluate-schema.js';
import type { Manifest } from '../../src/results/schema.js';
import { fixtureProvenance } from '../report/fixtures.js';

const TASK_BASE: Record<string, number> = { hellaswag: 0.42, arc_easy: 0.58, lambada_openai: 0.46 };

export function writeEvaluateFixture(dir: string, o: { layers: number; model: string; repeat?: number; seed?: number; tasks?: string[] }): string {
  const L = o.layers, rnd = mulberry32(o.seed ?? 1);
  const tasks = o.tasks ?? Object.keys(TASK_BASE);
  const n: Record<string, number> = { hellaswag: 1000, arc_easy: 2376, lambada_openai: 5153 };
  const range = (k: number) => Array.from({ length: k }, (_, i) => i);
  const row = (task: string, kind: EvaluateRow['kind'], layer: number | null, plan: number[], acc: number): EvaluateRow => {
    const m = task === 'lambada_openai';
    const se = Math.sqrt((acc * (1 - acc)) / (n[task] - 1));
    return {
      task, kind, layer, relative_depth: layer === null ? null : layer / (L - 1), name: layer === null ? 'baseline' : `${kind}_${layer}`, plan, n: n[task],
      acc, acc_stderr: se, acc_norm: m ? null : Math.min(1, acc + 0.03), acc_norm_stderr: m ? null : se, perplexity: m ? 5 / acc : null, perplexity_stderr: m ? 0.2 : null,
    };
  };
  const rows: EvaluateRow[] = [];
  for (const task of tasks) {
    const base = TASK_BASE[task] ?? 0.5;
    rows.push(row(task, 'baseline', null, range(L), base));
    const hurt = (l: number) => (l === 0 ? 0.7 : l >= L - 2 ? 0.25 : 0.04 + 0.03 * rnd());
    for (let l = 0; l < L; l++) rows.push(row(task, 'delete', l, range(L).filter((b) => b !== l), Math.max(0.01, base - base * hurt(l))));
    for (let l = 0; l + 1 < L; l++) rows.push(row(task, 'swap', l, [...range(l), l + 1, l, ...range(L).slice(l + 2)], Math.max(0.01, base - base * hurt(l) * 0.8)));
    if (o.repeat)
      for (let s = 0; s + o.repeat <= L; s++) {
        const plan = [...range(s), ...range(o.repeat).flatMap((i) => [s + i, s + i]), ...range(L).slice(s + o.repeat)];
        rows.push(row(task, 'repeat', s, plan, base + (s / L > 0.7 ? 0.01 : -0.05 * rnd())));
      }
  }
  const provenance = fixtureProvenance(o.model);
  const choices = { harness: 'lm-evaluation-harness v0.4.9.1 (fixture)', bos_rule: 'harness', limit: null };
  const result: EvaluateResult = {
    provenance, layers: L, choices, rows,
    tasks: tasks.map((t) => ({ task: t, output_type: t === 'lambada_openai' ? 'loglikelihood' : 'multiple_choice', file: `/data/${t}.jsonl`, sha256: 'f'.repeat(64), records: n[t], items: n[t], requests: n[t], truncated_requests: 0 })),
  };
  const manifest: Manifest = { kind: 'evaluate', provenance, choices, requested: tasks, complete: tasks, command: ['evaluate'], finished_at: '2025-01-01T00:00:00.000Z' };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'evaluate.json'), JSON.stringify(result));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}
