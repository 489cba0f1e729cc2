/**
 * Figures of runs made under `--protocol paper` (issue 14): local attention draws the authors' per-offset
 * mean, the logit-lens KL axis names the file's unit, the sub-word caption states the head rule.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildFigures } from '../../src/report/figures/index.js';
import { loadRuns } from '../../src/report/load-runs.js';
import type { Figure } from '../../src/report/types.js';
import type { LocalAttentionResult, LogitLensResult } from '../../src/results/schema.js';
import { writeFixtureRun } from './fixtures.js';
import { tempDir } from './helpers.js';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

const figureOf = (figs: Figure[], id: string) => figs.find((f) => f.id.endsWith(id))!;
/** The figure's Vega-Lite spec as text (axis titles live there). */
const specText = (f: Figure) => JSON.stringify(f.spec);

test('a paper-protocol run: local attention rows are the per-entry means, KL in nats, the head rule in the caption', () => {
  const paperDir = writeFixtureRun(join(root, 'paper'), { layers: 6, model: 'EleutherAI/pythia-2.8b-deduped', protocol: 'paper' });
  const rule = "the authors' head (layer 1, head 6, 0-based)";
  const sw = JSON.parse(readFileSync(join(paperDir, 'subword-heads.json'), 'utf8'));
  sw.heatmap.rule = rule;
  writeFileSync(join(paperDir, 'subword-heads.json'), JSON.stringify(sw));
  const figs = buildFigures(loadRuns([paperDir]), { sigma: 'sem' }).figures;
  const la = JSON.parse(readFileSync(join(paperDir, 'local-attention.json'), 'utf8')) as LocalAttentionResult;
  const rows = figureOf(figs, 'local-attention').table.rows.filter((r) => r[1] === 'k=4');
  assert.equal(rows.length, 6);
  rows.forEach((r) => assert.ok(Math.abs((r[4] as number) - la.per_layer[r[2] as number].mean_entry!['4'].mean!) < 1e-5));
  // The per-entry mean (about S_k/k) is well below the total S_k in this fixture.
  rows.forEach((r) => assert.ok((r[4] as number) < la.per_layer[r[2] as number].windows['4'].mean! / 2));
  assert.match(String(figureOf(figs, 'local-attention').caption), /extract_top_k_sub_diagonals_mean/);
  assert.match(specText(figureOf(figs, 'logit-lens')), /KL \(nats\)/);
  const lens = JSON.parse(readFileSync(join(paperDir, 'logit-lens.json'), 'utf8')) as LogitLensResult;
  assert.equal(lens.kl_unit, 'nats');
  assert.match(String(figureOf(figs, 'subword-heads').caption), /the authors&#39; head \(layer 1, head 6|the authors' head \(layer 1, head 6/);
});

test('a layerlab run draws the totals and KL in bits; mixed protocols draw KL in bits', () => {
  const a = writeFixtureRun(join(root, 'a'), { layers: 6, model: 'fixture/a' });
  const b = writeFixtureRun(join(root, 'b'), { layers: 8, model: 'fixture/b', protocol: 'paper' });
  const one = buildFigures(loadRuns([a]), { sigma: 'sem' }).figures;
  const la = JSON.parse(readFileSync(join(a, 'local-attention.json'), 'utf8')) as LocalAttentionResult;
  const rows = figureOf(one, 'local-attention').table.rows.filter((r) => r[1] === 'k=4');
  rows.forEach((r) => assert.ok(Math.abs((r[4] as number) - la.per_layer[r[2] as number].windows['4'].mean!) < 1e-5));
  assert.match(specText(figureOf(one, 'logit-lens')), /KL \(bits\)/);
  assert.match(String(figureOf(one, 'subword-heads').caption), /the best-scoring head/);
  const both = buildFigures(loadRuns([a, b]), { sigma: 'sem' }).figures;
  assert.match(specText(figureOf(both, 'logit-lens')), /KL \(bits\)/);
  assert.match(String(figureOf(both, 'local-attention').caption), /for runs of the paper protocol/);
});
