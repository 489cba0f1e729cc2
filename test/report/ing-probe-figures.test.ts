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

test('"-ing" figures: one point per probe neuron and the non-empty bins drawn; skipped probes are named, never drawn empty', async () => {
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
  assert.equal(ingProbeAccuracy([skipped!], { sigma: 'sem' }), undefined, 'no accuracy figure without accuracies');
  const only = ingNeuronHistograms([skipped!], { sigma: 'sem' })!;
  assert.match(String(only.caption), /No probe accuracies: gpt2-xl: &quot;-ing&quot; probes skipped — 3 examples per class &lt;b&gt;/, 'the reason, escaped');
  // Next to a run with probes, the skipped one is a note in the accuracy figure.
  const both = ingProbeAccuracy(loadRuns([writeFixtureRun(join(root, 'with'), { layers: 12, model: 'gpt2' }), dir]), { sigma: 'sem' })!;
  assert.deepEqual(both.checks.filter((c) => c.name === 'ingp_notes').map((c) => c.count), [1]);
  assert.equal(countMarks((await renderSvg(both.spec)).svg, 'ingp_notes'), 1);
});
