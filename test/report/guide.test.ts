/** The report explains itself: the guide, each run's findings (escaped) and the paper's finding per figure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIGURE_BUILDERS } from '../../src/report/figures/index.js';
import { runFindings } from '../../src/report/findings.js';
import { PAPER_FOUND, figureKey, guideHtml, paperFoundHtml } from '../../src/report/guide.js';
import { loadRuns } from '../../src/report/load-runs.js';
import { writeFixtureRun } from './fixtures.js';
import { tempDir } from './helpers.js';

test('every figure the report can draw has a sentence of what the paper found on it', () => {
  assert.deepEqual(Object.keys(PAPER_FOUND).sort(), FIGURE_BUILDERS.map((b) => b.key).sort());
  assert.equal(figureKey('fig02-robustness'), 'robustness');
  assert.match(String(paperFoundHtml('fig02-robustness')), /^<p class="paper-found"><b>In the paper:<\/b> Fig\. 5a, .*72–95%/);
  assert.equal(paperFoundHtml('fig09-something-new'), '');
});

test('findings are computed from the run, and every inserted string is escaped', () => {
  const root = tempDir();
  const a = writeFixtureRun(join(root, 'a'), { layers: 12, model: 'org/<img src=x onerror=alert(1)>' });
  const b = writeFixtureRun(join(root, 'b'), { layers: 8, model: 'org/b' });
  const runs = loadRuns([a, b], { labels: ['<script>alert(1)</script>', 'b&b'] });
  const f = runFindings(runs[0]!);
  const dels = runs[0]!.sweep!.interventions.filter((x) => x.kind === 'delete');
  const worst = dels.reduce((x, y) => (y.kl_mean > x.kl_mean ? y : x));
  assert.match(f[0], new RegExp(`^Deleting layer ${worst.layer} of 12 hurts most: KL ${worst.kl_mean.toFixed(3)} nats/token`));
  assert.match(f[1], new RegExp(`${(runs[0]!.sweep!.summary.delete!.mean_agreement * 100).toFixed(1)}% over 12 deletions`));
  const b2 = runs[0]!.stages.stages!.boundaries.find((x) => x.stage === 2)!;
  assert.match(f[2], new RegExp(`stage 2 \\(feature engineering\\) from layer ${b2.layer} `));
  const html = guideHtml(runs).toString();
  assert.ok(html.includes('<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3>'));
  assert.ok(html.includes('<h3>b&amp;b</h3>'));
  assert.ok(!html.includes('<script') && !html.includes('<img'));
  assert.match(html, /<a href="https:\/\/arxiv\.org\/abs\/2406\.19384" rel="noreferrer">/);
  for (const term of ['Deletion', 'Swap', 'KL', 'Agreement', 'Four stages']) assert.ok(html.includes(`<dt>${term}</dt>`));
  assert.ok(html.includes('<h2>Findings of these runs</h2>'), 'two runs: plural');
  assert.ok(guideHtml(runs.slice(0, 1)).toString().includes('<h2>Findings of this run</h2>'));
  // Without plotted runs there are no findings, only the guide.
  assert.ok(!guideHtml([]).toString().includes('Findings of th'));
});
