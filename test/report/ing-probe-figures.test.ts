import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ingNeuronHistograms, ingProbeAccuracy } from '../../src/report/figures/ing-probe.js';
import { loadRuns } from '../../src/report/load-runs.js';
import { renderSvg } from '../../src/report/render-static.js';
import type { IngProbeResult } from '../../src/results/schema.js';
import { writeFixtureRun } from './fixtures.js';
import { countMarks, tempDir } from './helpers.js';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

test('"-ing" figures: one point per probe neuron and the non-empty bins drawn; skipped probes become a note', async () => {
  const dir = writeFixtureRun(join(root, 'xl'), { layers: 48, model: 'gpt2-xl' });
  const file = join(dir, 'ing-probe.json');
  const f = JSON.parse(readFileSync(file, 'utf8')) as IngProbeResult;
  const [run] = loadRuns([dir]);
  const acc = ingProbeAccuracy([run!], { sigma: 'sem' })!;
  const { svg, warnings } = await renderSvg(acc.spec);
  assert.deepEqual(warnings, []);
  assert.equal(countMarks(svg, 'ingp0_single'), 32);
  assert.equal(countMarks(svg, 'ingp0_rule0'), 1);
  // The caption says what was measured and names the held-out baseline; the table has every probe.
  assert.match(String(acc.caption), /held-out/);
  assert.equal(acc.table.rows.length, 32 + 32 + 1);
  const hist = ingNeuronHistograms([run!], { sigma: 'sem' })!;
  const nonEmpty = f.histograms!.reduce((s, h) => s + [...h.ing, ...h.other].filter((c) => c > 0).length, 0);
  assert.equal(hist.checks[0]!.count, nonEmpty);
  const h = await renderSvg(hist.spec);
  assert.deepEqual(h.warnings, []);
  assert.equal(countMarks(h.svg, 'ingh0_bars'), nonEmpty);

  // Probes skipped (too few single-token verbs): the accuracy figure is a note; the histograms stay.
  writeFileSync(file, JSON.stringify({ ...f, probes: { status: 'skipped', reason: '3 examples per class <b>', dataset: f.probes!.dataset } }));
  const [skipped] = loadRuns([dir]);
  const note = ingProbeAccuracy([skipped!], { sigma: 'sem' })!;
  assert.deepEqual(note.checks.map((c) => [c.name, c.count]), [['ingp_notes', 1]]);
  assert.match(String(note.caption), /3 examples per class &lt;b&gt;/, 'values from the run folder are escaped');
  assert.equal(countMarks((await renderSvg(note.spec)).svg, 'ingp_notes'), 1);
  assert.ok(ingNeuronHistograms([skipped!], { sigma: 'sem' }));
});
