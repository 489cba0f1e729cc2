/**
 * The benchmark figures (paper Figs. 15-16 and the Fig. 24 view): built from evaluate.json, one panel per
 * task with a dotted baseline per model and ±1 standard error bands; and in headless Chromium every one
 * renders on load with the expected marks and no console errors (skipped, naming what is missing, only
 * when Chromium cannot be found or installed).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildReport } from '../../src/report/build.js';
import { buildFigures } from '../../src/report/figures/index.js';
import { loadRuns } from '../../src/report/load-runs.js';
import { tempDir } from '../report/helpers.js';
import { chromiumOrReason, figureStates, withReportPage } from '../report/page.js';
import { writeEvaluateFixture } from './fixture.js';

const root = tempDir('layerlab-evaluate-report-');
after(() => rmSync(root, { recursive: true, force: true }));
const a = writeEvaluateFixture(join(root, 'gpt2'), { layers: 12, model: 'openai-community/gpt2', repeat: 5 });
const b = writeEvaluateFixture(join(root, 'pythia'), { layers: 24, model: 'EleutherAI/pythia-410m', seed: 4 });

test('Figs. 15-16: one panel per task, a delete and a swap line per model, bands and a dotted baseline per model', () => {
  const runs = loadRuns([a, b]);
  assert.ok(runs.every((r) => r.complete), runs.flatMap((r) => r.missing).join('; '));
  const figs = buildFigures(runs, { sigma: 'sem' }).figures;
  const f = figs.find((x) => x.id.endsWith('-benchmarks'))!;
  assert.ok(f, figs.map((x) => x.id).join(', '));
  const spec = f.spec as unknown as { concat: Array<{ title: { text: string } }> };
  assert.deepEqual(spec.concat.map((p) => p.title.text), ['HellaSwag', 'ARC-Easy', 'LAMBADA (OpenAI)']);
  for (let i = 0; i < 3; i++) {
    assert.equal(f.checks.find((c) => c.name === `bench_${i}_line`)!.count, 4, 'two models x delete/swap');
    assert.equal(f.checks.find((c) => c.name === `bench_${i}_base`)!.count, 2, 'a baseline per model');
  }
  // table: every delete/swap row and one baseline per model and task
  assert.equal(f.table.rows.length, 3 * (12 + 11 + 1) + 3 * (24 + 23 + 1));
  assert.match(String(f.caption), /gpt2: hellaswag 42\.0% \(n = 1000\)/);
  const rep = figs.find((x) => x.id.endsWith('-benchmark-repeat'))!;
  assert.ok(rep, 'the Fig. 24 view appears when repeats were run');
  assert.deepEqual(rep.absent, ['pythia-410m']);
  assert.equal(rep.checks.find((c) => c.name === 'benchrep_0_line')!.count, 1);
  const noRepeat = buildFigures(loadRuns([b]), { sigma: 'sem' }).figures;
  assert.ok(!noRepeat.some((x) => x.id.endsWith('-benchmark-repeat')));
});

describe('benchmark figures in headless Chromium', { skip: chromiumOrReason() }, () => {
  test('render on load with the expected marks, no console errors and no requests', async () => {
    const report = await buildReport({ dirs: [a, b], out: join(root, 'out', 'report.html'), png: false });
    assert.deepEqual(report.figures.map((f) => f.id.replace(/^fig\d+-/, '')), ['benchmarks', 'benchmark-repeat']);
    const result = await withReportPage(report.html, async (page, log) => ({ ...log, figures: await figureStates(page) }));
    assert.deepEqual(result.pageErrors, []);
    assert.deepEqual(result.consoleErrors, []);
    assert.deepEqual(result.requests, []);
    assert.equal(result.state.rendered, 2, result.state.errors.join('; '));
    for (const f of result.figures) {
      assert.ok(f.svgs >= 1 && f.visible && f.width > 300 && f.height > 150, `${f.id}: ${f.width}x${f.height}`);
      for (const c of f.checks) assert.equal(c.found, c.expected, `${f.id}: ${c.what} (${c.name})`);
    }
  });
});
