import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildFigures } from '../../src/report/figures/index.js';
import { normalize } from '../../src/report/figures/stage-signatures.js';
import { firstSubtoken } from '../../src/report/figures/subword-heads.js';
import { loadRuns } from '../../src/report/load-runs.js';
import { renderSvg, svgToPng, writeStaticFigures } from '../../src/report/render-static.js';
import type { Figure, LoadedRun } from '../../src/report/types.js';
import { writeFixtureRun } from './fixtures.js';
import { countMarks, tempDir } from './helpers.js';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

let runs: LoadedRun[];
let figures: Figure[];
before(() => {
  const a = writeFixtureRun(join(root, 'a'), { layers: 12, model: 'EleutherAI/pythia-160m' });
  const b = writeFixtureRun(join(root, 'b'), { layers: 24, model: 'EleutherAI/pythia-410m', layout: 'split', seed: 5 });
  runs = loadRuns([a, b]);
  figures = buildFigures(runs, { sigma: 'sem' }).figures;
});

const EXPECTED = ['stage-signatures-mean', 'stage-signatures', 'robustness', 'cka', 'local-attention', 'subword-heads', 'probe', 'logit-lens', 'ing-probe', 'ing-neurons', 'mlp-norm', 'repeat'];

describe('figures of two complete runs (12 and 24 layers)', () => {
  test('every figure is built, numbered in order, with a caption, a table and checks', () => {
    assert.deepEqual(figures.map((f) => f.id), EXPECTED.map((k, i) => `fig${String(i + 1).padStart(2, '0')}-${k}`));
    for (const f of figures) {
      assert.equal(f.number, figures.indexOf(f) + 1);
      assert.ok(String(f.caption).length > 200, `${f.id} caption says what was measured`);
      assert.ok(f.table.rows.length > 0, `${f.id} has table rows`);
      for (const row of f.table.rows) assert.equal(row.length, f.table.columns.length, `${f.id} table row width`);
      assert.ok(f.checks.length > 0, `${f.id} has mark checks`);
      assert.deepEqual(f.absent, []);
    }
  });

  test('captions name the data (file, sha256, tokens) and the stage boundaries', () => {
    // The WiC probe reads its own data; the "-ing" histograms come from the weights alone.
    for (const f of figures.filter((x) => x.id !== 'fig07-probe' && x.id !== 'fig10-ing-neurons')) {
      assert.match(String(f.caption), /pile-10k\.parquet/, f.id);
      assert.match(String(f.caption), /3f1c9a7e5b2d/, f.id);
      assert.match(String(f.caption), /40,880 scored tokens/, f.id);
    }
    const fig1 = figures.find((f) => f.id === 'fig02-stage-signatures')!;
    assert.match(String(fig1.caption), /pythia-160m — 2: layer 2 \(0\.18\), 3: layer 6 \(0\.55\), 4: layer 10 \(0\.91\)/);
  });

  test('every figure renders headless to SVG with the expected marks and no Vega warnings', async () => {
    for (const f of figures) {
      const { svg, warnings } = await renderSvg(f.spec);
      assert.deepEqual(warnings, [], `${f.id} warnings`);
      assert.match(svg, /^<svg /);
      for (const c of f.checks) {
        assert.ok(c.count > 0, `${f.id}: ${c.name} expects marks`);
        assert.equal(countMarks(svg, c.name), c.count, `${f.id}: ${c.what} (${c.name})`);
      }
    }
  });

  test('mark counts follow the data: CKA has L x L cells per matrix, Fig. 5a one line per model and kind', () => {
    const cka = figures.find((f) => f.id.endsWith('cka'))!;
    assert.deepEqual(cka.checks.filter((c) => c.name.endsWith('_cells')).map((c) => c.count), [144, 144, 576, 576]);
    const rob = figures.find((f) => f.id.endsWith('robustness'))!;
    assert.equal(rob.checks.find((c) => c.name === 'fig5a_kl_line')!.count, 4);
    assert.equal(rob.table.rows.length, 12 + 11 + 24 + 23);
  });

  test('Fig. 1 normalizes each signal to [0, 1] within its model', () => {
    const fig1 = figures.find((f) => f.id === 'fig02-stage-signatures')!;
    const cols = fig1.table.columns;
    const ni = cols.indexOf('normalized');
    const groups = new Map<string, number[]>();
    for (const r of fig1.table.rows) {
      const k = `${r[0]}|${r[1]}`;
      groups.set(k, [...(groups.get(k) ?? []), r[ni] as number]);
    }
    assert.equal(groups.size, 8);
    for (const [k, v] of groups) {
      assert.equal(Math.min(...v), 0, k);
      assert.equal(Math.max(...v), 1, k);
    }
    assert.deepEqual(normalize([2, 4, 3]), [0, 1, 0.5]);
    assert.deepEqual(normalize([5, 5]), [0, 0]);
  });

  test('sub-word heatmap: every example word has its first sub-token outlined', () => {
    const sw = figures.find((f) => f.id.endsWith('subword-heads'))!;
    assert.deepEqual(sw.checks.filter((c) => c.name.endsWith('_first')).map((c) => c.count), [6, 6, 6, 6]);
    assert.equal(firstSubtoken('cash', [' the', ' c', 'a', 's', 'h']), 1);
    assert.equal(firstSubtoken('walk', ['\u2581the', '\u2581walk']), 1);
    assert.equal(firstSubtoken('cash', [' x', 'y']), undefined);
  });

  test('--sigma std draws every band as the std across documents (sem x sqrt(docs)), and every caption says which', () => {
    const std = buildFigures(runs, { sigma: 'std' }).figures;
    const sem = buildFigures(runs, { sigma: 'sem' }).figures;
    const rob = std.find((f) => f.id.endsWith('robustness'))!;
    assert.ok(rob.table.columns.includes('kl_std'));
    const at = rob.table.columns.indexOf('kl_std');
    let checked = 0;
    for (const r of runs)
      for (const x of r.sweep!.interventions.filter((y) => y.kind === 'delete')) {
        const row = rob.table.rows.find((t) => t[0] === r.label && t[1] === 'delete' && t[2] === x.layer)!;
        const want = x.kl_sem * Math.sqrt(x.docs);
        assert.ok(Math.abs((row[at] as number) - want) <= 1e-5 * want, `${r.label} layer ${x.layer}: ${row[at]} vs ${want}`);
        checked++;
      }
    assert.ok(checked > 10);
    for (const key of ['robustness', 'local-attention', 'mlp-norm', 'logit-lens', 'repeat']) {
      const f = std.find((x) => x.id.endsWith(key))!, g = sem.find((x) => x.id.endsWith(key))!;
      assert.match(String(f.caption), /±1 standard deviation across documents/, key);
      assert.match(String(g.caption), /±1 standard error of the mean across documents/, key);
    }
  });

  test('small multiples line up: the panel titles of the local-attention grid sit at one height (no axis title taller than its plot)', async () => {
    const f = figures.find((x) => x.id.endsWith('local-attention'))!;
    const { svg } = await renderSvg(f.spec);
    const offsets = [...svg.matchAll(/<g class="mark-group role-title"><g transform="translate\(([-\d.]+),([-\d.]+)\)/g)].map((m) => m[2]);
    assert.equal(offsets.length, 6);
    assert.equal(new Set(offsets).size, 1, offsets.join(', '));
  });

  test('static files: SVG, PNG and CSV per figure; the SVGs parse (resvg) and PNGs are PNGs', async () => {
    const dir = join(root, 'static');
    const { files, warnings } = await writeStaticFigures(figures.slice(0, 2), dir, { scale: 1 });
    assert.deepEqual(warnings, []);
    for (const f of files) {
      const svg = readFileSync(f.svg, 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      const png = svgToPng(svg, 1);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
      assert.ok(existsSync(f.png!));
      assert.deepEqual([...readFileSync(f.png!).subarray(1, 4)], [0x50, 0x4e, 0x47]);
      const csv = readFileSync(f.csv, 'utf8').trim().split('\n');
      assert.ok(csv.length > 10);
    }
    assert.throws(() => svgToPng('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>'));
  });
});

describe('figures of partial or single runs', () => {
  test('a sweep-only run draws Fig. 1 and Fig. 5a and names what the other figures need', () => {
    const dir = writeFixtureRun(join(root, 'sweep-only'), { layers: 12, omit: ['local-attention', 'subword-heads', 'logit-lens', 'neurons', 'mlp-norm', 'repeat', 'cka', 'wic', 'ing-probe', 'stages'] });
    const { figures: f, skipped } = buildFigures(loadRuns([dir]), { sigma: 'sem' });
    assert.deepEqual(f.map((x) => x.id), ['fig01-stage-signatures', 'fig02-robustness']);
    assert.ok(skipped.some((s) => s.key === 'cka' && s.needs === 'cka.json'));
    assert.match(String(f[0]!.caption), /No stage boundaries are drawn/);
  });

  test('one model: stages shaded full height with their names; two models where one lacks a file: the caption says so', async () => {
    const one = loadRuns([join(root, 'a')]);
    const fig = buildFigures(one, { sigma: 'sem' }).figures.find((x) => x.id.endsWith('mlp-norm'))!;
    const { svg } = await renderSvg(fig.spec);
    assert.match(svg, /2 feature engineering/);
    assert.equal(countMarks(svg, 'mlp_stageband'), 2);
    const partial = writeFixtureRun(join(root, 'no-cka'), { layers: 8, omit: ['cka'] });
    const two = buildFigures(loadRuns([join(root, 'a'), partial]), { sigma: 'sem' }).figures.find((x) => x.id.endsWith('cka'))!;
    assert.deepEqual(two.absent, ['pythia-8l']);
    assert.match(String(two.caption), /Not shown for pythia-8l \(no cka\.json\)/);
  });

  test('a skipped WiC probe is a note, not an empty chart', async () => {
    const dir = writeFixtureRun(join(root, 'wic-skipped'), { layers: 12, probeSkipped: true });
    const fig = buildFigures(loadRuns([dir]), { sigma: 'sem' }).figures.find((x) => x.id.endsWith('probe'))!;
    const { svg } = await renderSvg(fig.spec);
    assert.equal(countMarks(svg, 'probe_skipped'), 1);
    assert.match(String(fig.caption), /wic probe skipped — WiC data file not found/);
  });

  test('an incomplete run is not drawn unless asked; then labelled', () => {
    const killed = writeFixtureRun(join(root, 'killed'), { layers: 16, interruptedBefore: ['cka'] });
    const runs2 = loadRuns([join(root, 'a'), killed]);
    const f = buildFigures(runs2, { sigma: 'sem' }).figures.find((x) => x.id.endsWith('mlp-norm'))!;
    assert.ok(f.table.rows.every((r) => r[0] === 'pythia-160m'));
    const shown = loadRuns([join(root, 'a'), killed], { includeIncomplete: true });
    const g = buildFigures(shown, { sigma: 'sem' }).figures.find((x) => x.id.endsWith('mlp-norm'))!;
    assert.ok(g.table.rows.some((r) => r[0] === 'pythia-16l (incomplete)'));
  });
});
