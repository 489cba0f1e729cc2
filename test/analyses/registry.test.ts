import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANALYSES, PLAN_ANALYSES } from '../../src/analyses/registry.js';
import { ANALYSIS_FILES, RESULT_SCHEMAS } from '../../src/results/run-files.js';
import { FIGURE_BUILDERS } from '../../src/report/figures/index.js';
import { loadRuns } from '../../src/report/load-runs.js';
import { fixtureResults, writeFixtureRun } from '../report/fixtures.js';

test('every registered analysis names its file, that file\'s validator and a figure that draws it', () => {
  assert.deepEqual(ANALYSES.map((a) => a.name).sort(), Object.keys(ANALYSIS_FILES).sort(), 'one registry line per result file');
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-registry-'));
  try {
    const full = writeFixtureRun(join(dir, 'full'), { layers: 6, seed: 5 });
    // The fixture writes no span probe; add one so that its figure has it.
    writeFileSync(join(full, ANALYSIS_FILES.probe), JSON.stringify(fixtureResults({ layers: 6, seed: 5 }).files.probe));
    const [withAll] = loadRuns([full], { includeIncomplete: true });
    for (const a of ANALYSES) {
      assert.equal(a.file, ANALYSIS_FILES[a.name], a.name);
      assert.ok(a.schema, `${a.name} has no validator`);
      assert.equal(a.schema, RESULT_SCHEMAS[a.file as keyof typeof RESULT_SCHEMAS], `${a.name}: validator is not its file's`);
      const fig = FIGURE_BUILDERS.find((f) => f.key === a.figure);
      assert.ok(fig, `${a.name}: figure '${a.figure}' is not registered in src/report/figures/index.ts`);
      // The figure really reads this analysis's file: without it, the figure changes (or disappears).
      const without = { ...withAll, stages: { ...withAll.stages, [a.name]: undefined } };
      const drawn = (r: typeof withAll) => JSON.stringify(fig.build([r], { sigma: 'sem' }) ?? null);
      assert.notEqual(drawn(withAll), 'null', `${a.name}: figure '${a.figure}' draws nothing`);
      assert.notEqual(drawn(without), drawn(withAll), `${a.name}: figure '${a.figure}' does not use ${a.file}`);
    }
    // The sweep's per-plan metrics: metrics.json, its validator, and the figure that draws it.
    for (const a of PLAN_ANALYSES) {
      assert.equal(a.schema, RESULT_SCHEMAS[a.file as keyof typeof RESULT_SCHEMAS], `${a.name}: validator is not its file's`);
      const fig = FIGURE_BUILDERS.find((f) => f.key === a.figure);
      assert.ok(fig, `${a.name}: figure '${a.figure}' is not registered`);
      const drawn = (r: typeof withAll) => JSON.stringify(fig.build([r], { sigma: 'sem' }) ?? null);
      assert.notEqual(drawn({ ...withAll, sweep: undefined }), drawn(withAll), `${a.name}: figure '${a.figure}' does not use ${a.file}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
