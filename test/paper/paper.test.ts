/**
 * `layerlab paper` end to end on the real stories260k model: every part is written, a run stopped after
 * the sweep resumes without redoing it, and the report of the real run renders in headless Chromium with
 * every figure drawn and no console errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadModelDir } from '../../src/model/model.js';
import { runPaper, type PaperOutcome } from '../../src/runs/paper.js';
import { ANALYSIS_FILES } from '../../src/results/run-files.js';
import { needsShared, sharedPath } from '../helpers/shared.js';
import { artifactsDir, tempDir } from '../report/helpers.js';
import { chromiumOrReason, figureStates, withReportPage } from '../report/page.js';

const modelDir = sharedPath('models', 'stories260k');
const textFile = sharedPath('weights', 'text', 'tinystories_valid_prefix.txt');
// WiC is optional input: with it the probe runs, without it the run records the probe as skipped.
const wicDir = sharedPath('data', 'wic');
const skip = needsShared('models', 'stories260k').skip ?? needsShared('weights', 'text', 'tinystories_valid_prefix.txt').skip;
const root = tempDir('layerlab-paper-');
after(() => rmSync(root, { recursive: true, force: true }));

describe('layerlab paper on stories260k', { skip }, () => {
  let outcome: PaperOutcome;
  let data: string;
  const out = join(root, 'run');

  before(async () => {
    // A small corpus: the first 40k characters of the TinyStories validation text (stories separated by blank lines).
    data = join(root, 'stories.txt');
    writeFileSync(data, readFileSync(textFile!, 'utf8').slice(0, 40_000));
    const model = loadModelDir(modelDir!);
    const opts = { data, out, maxTokens: 3000, png: false, wicDir, command: ['paper', '--test'] };
    // First attempt dies right after the sweep (as a kill would), the second continues.
    await assert.rejects(runPaper(model, { ...opts, afterPhase: (p) => { if (p === 'sweep') throw new Error('killed after sweep'); } }), /killed after sweep/);
    assert.ok(existsSync(join(out, 'sweep', 'metrics.json')));
    assert.ok(!existsSync(join(out, 'stages', 'stages.json')));
    const sweepWritten = statSync(join(out, 'sweep', 'metrics.json')).mtimeMs;
    outcome = await runPaper(model, opts);
    assert.equal(statSync(join(out, 'sweep', 'metrics.json')).mtimeMs, sweepWritten, 'the finished sweep was not redone');
  });

  test('writes the sweep, every stage analysis and the report with its figures', () => {
    const metrics = JSON.parse(readFileSync(join(out, 'sweep', 'metrics.json'), 'utf8'));
    const kinds = new Set(metrics.interventions.map((r: { kind: string }) => r.kind));
    assert.deepEqual([...kinds].sort(), ['delete', 'repeat', 'swap']);
    assert.equal(metrics.interventions.filter((r: { kind: string }) => r.kind === 'delete').length, 5);
    for (const [name, file] of Object.entries(ANALYSIS_FILES)) {
      if (name === 'probe') continue;
      assert.ok(existsSync(join(out, 'stages', file)), `stages/${file}`);
    }
    const wic = JSON.parse(readFileSync(join(out, 'stages', 'wic.json'), 'utf8'));
    assert.equal(wic.status, wicDir ? 'done' : 'skipped');
    if (wicDir) assert.equal(wic.per_point.length, 6);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.kind, 'paper');
    assert.deepEqual(manifest.complete, ['sweep', 'stages']);
    assert.ok(existsSync(outcome.report));
    assert.deepEqual(outcome.warnings, []);
    assert.ok(existsSync(join(out, 'report-figures', 'fig02-robustness.svg')));
  });

  test('the report of the real run renders every figure in Chromium without console errors', { skip: chromiumOrReason() }, async () => {
    await withReportPage(outcome.report, async (page, log) => {
      assert.deepEqual(log.pageErrors, []);
      assert.deepEqual(log.consoleErrors, []);
      assert.deepEqual(log.requests, []);
      // The paper's nine stage figures and the "-ing" neurons' histograms (the probes need single-token verbs,
      // which a 512-token vocabulary lacks: no accuracy figure, the histograms' caption says why).
      assert.equal(log.state.total, 10);
      assert.equal(log.state.rendered, 10, log.state.errors.join('; '));
      for (const f of await figureStates(page)) {
        assert.ok(f.svgs >= 1 && f.width > 300 && f.height > 150 && f.visible, `${f.id} rendered`);
        for (const c of f.checks) assert.equal(c.found, c.expected, `${f.id}: ${c.what}`);
      }
      const dir = artifactsDir();
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'paper-stories260k.png'), fullPage: true });
    });
  });
});
