/**
 * Fig. 1 averaged across models: the interpolation and averaging on hand-built curves, then two run
 * folders with 3 and 5 layers whose signals are planted by hand, averaged to hand-computed values, the
 * band under each --sigma, the figure's omission for one run, and same-named models kept apart.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { averageOnGrid, depthGrid, interpolateAt } from '../../src/report/figures/depth-average.js';
import { buildFigures } from '../../src/report/figures/index.js';
import { normalize } from '../../src/report/figures/stage-signatures.js';
import { averageSignatures } from '../../src/report/figures/stage-signatures-mean.js';
import { loadRuns } from '../../src/report/load-runs.js';
import { renderSvg } from '../../src/report/render-static.js';
import type { Figure } from '../../src/report/types.js';
import { writeFixtureRun } from './fixtures.js';
import { countMarks, tempDir } from './helpers.js';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

const close = (a: number | null | undefined, b: number, tol = 1e-5, what = '') => assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

describe('interpolation and averaging on relative depth (hand-built curves)', () => {
  test('the grid is the deepest model’s ℓ/(L−1)', () => {
    assert.deepEqual(depthGrid(5), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(depthGrid(2), [0, 1]);
    assert.deepEqual(depthGrid(1), [0]);
    assert.throws(() => depthGrid(0), RangeError);
  });

  test('min-max normalization within a model; a constant signal maps to 0', () => {
    assert.deepEqual(normalize([4, 1, 2]), [1, 0, 1 / 3]);
    assert.deepEqual(normalize([0.4, 0.4, 0.4]), [0, 0, 0]);
  });

  test('linear interpolation between neighbours, exact at points, never extrapolated', () => {
    const tri = [
      { depth: 0, value: 0 },
      { depth: 0.5, value: 1 },
      { depth: 1, value: 0 },
    ];
    assert.equal(interpolateAt(tri, 0.25), 0.5);
    assert.equal(interpolateAt(tri, 0.75), 0.5);
    assert.equal(interpolateAt(tri, 0.5), 1);
    assert.equal(interpolateAt(tri, 1), 0);
    close(interpolateAt(tri, 0.1), 0.2, 1e-12, 'at 0.1');
    // 3 layers at ℓ/2 read at the 4-layer depth 1/3: 2/3 of the way from 0 to 1
    close(interpolateAt([{ depth: 0, value: 3 }, { depth: 0.5, value: 0 }], 1 / 3), 1, 1e-12, 'at 1/3');
    assert.equal(interpolateAt(tri, 1 + 1e-6), undefined);
    assert.equal(interpolateAt([{ depth: 0.2, value: 1 }, { depth: 1, value: 0 }], 0), undefined, 'a curve starting at 0.2 says nothing at 0');
    assert.equal(interpolateAt(tri, 1 / 3 + 2 / 3 - 1e-12), 0, 'within rounding of a point: its value');
  });

  test('mean, sample std and sem across curves at each grid point; points a curve does not reach count fewer models', () => {
    const a = [
      { depth: 0, value: 1 },
      { depth: 0.5, value: 0 },
      { depth: 1, value: 1 / 3 },
    ];
    const b = [0, 0.25, 0.5, 0.75, 1].map((depth, i) => ({ depth, value: [1, 0, 0, 0.25, 0.5][i]! }));
    const c = [
      { depth: 0.5, value: 0.5 },
      { depth: 1, value: 1 },
    ];
    const out = averageOnGrid([a, b, c], depthGrid(5));
    // a at 0.25 = 0.5, at 0.75 = (0 + 1/3) / 2 = 1/6; c reaches 0.5..1 only
    assert.deepEqual(out[1]!.values, [0.5, 0, undefined]);
    close(out[1]!.stat.mean, 0.25, 1e-12, 'mean at 0.25');
    close(out[1]!.stat.std, Math.SQRT1_2 * 0.5, 1e-12, 'sample std of (0.5, 0)');
    close(out[1]!.stat.sem, 0.25, 1e-12, 'sem = std / √2');
    assert.equal(out[1]!.stat.n, 2);
    close(out[3]!.values[0], 1 / 6, 1e-12, 'a at 0.75');
    // at 0.75: a = 1/6, b = 0.25, c = 0.75 → mean 7/18, sample var = Σ(x − m)² / 2
    const m = (1 / 6 + 0.25 + 0.75) / 3;
    const v = ((1 / 6 - m) ** 2 + (0.25 - m) ** 2 + (0.75 - m) ** 2) / 2;
    close(out[3]!.stat.mean, 7 / 18, 1e-12, 'mean at 0.75');
    close(out[3]!.stat.std, Math.sqrt(v), 1e-12, 'std at 0.75');
    assert.equal(out[3]!.stat.n, 3);
    assert.equal(out[0]!.stat.std, 0, 'two equal values: no spread');
    assert.throws(() => averageOnGrid([[{ depth: 0, value: NaN }]], [0]), RangeError);
  });
});

/** A flat fixture run whose stage signals are replaced by the given per-layer values. */
function plantedRun(dir: string, model: string, v: { kl: number[]; prev5: number[]; pred?: number[]; supp?: number[] }): string {
  const L = v.kl.length;
  writeFixtureRun(dir, { layers: L, model, omit: ['subword-heads', 'logit-lens', 'mlp-norm', 'repeat', 'cka', 'wic', 'stages', ...(v.pred ? [] : (['neurons'] as const))] });
  const edit = (file: string, f: (j: Record<string, any>) => void) => {
    const p = join(dir, file);
    const j = JSON.parse(readFileSync(p, 'utf8'));
    f(j);
    writeFileSync(p, JSON.stringify(j));
  };
  edit('metrics.json', (j) => {
    for (const row of j.interventions) if (row.kind === 'delete') row.kl_mean = v.kl[row.layer];
  });
  edit('local-attention.json', (j) => {
    for (const row of j.per_layer) row.prev5.mean = v.prev5[row.layer];
  });
  if (v.pred)
    edit('neurons.json', (j) => {
      for (const row of j.per_layer) {
        row.prediction_density = v.pred![row.layer];
        row.suppression_density = v.supp![row.layer];
      }
    });
  return dir;
}

const rowsOf = (f: Figure, signal: string) => f.table.rows.filter((r) => r[0] === signal);
const col = (f: Figure, name: string) => f.table.columns.indexOf(name);

describe('two runs with 3 and 5 layers, signals planted by hand', () => {
  // A (L = 3): KL 4, 1, 2 → 1, 0, 1/3 at depths 0, .5, 1; previous-5 .5, .3, .1 → 1, .5, 0; neurons only here.
  // B (L = 5): KL 10, 2, 2, 4, 6 → 1, 0, 0, .25, .5; previous-5 constant → 0 everywhere.
  const a = plantedRun(join(root, 'three'), 'org/three', { kl: [4, 1, 2], prev5: [0.5, 0.3, 0.1], pred: [0, 0.1, 0.2], supp: [0, 0, 0.3] });
  const b = plantedRun(join(root, 'five'), 'org/five', { kl: [10, 2, 2, 4, 6], prev5: [0.4, 0.4, 0.4, 0.4, 0.4] });
  const runs = loadRuns([a, b]);
  const fig = (sigmaGiven?: boolean, sigma: 'sem' | 'std' = 'sem') => buildFigures(runs, { sigma, sigmaGiven }).figures.find((f) => f.id.endsWith('stage-signatures-mean'))!;

  test('each model normalized on its own layers, interpolated onto the 5-layer grid, averaged', () => {
    const avg = averageSignatures(runs);
    assert.equal(avg.lMax, 5);
    assert.deepEqual(avg.grid, [0, 0.25, 0.5, 0.75, 1]);
    const f = fig();
    assert.equal(f.number, 1, 'the average comes first, before the per-model panels');
    const kl = rowsOf(f, 'deletion KL');
    const [iDepth, iMean, iStd, iSem, iN] = ['relative_depth', 'mean', 'std_across_models', 'sem_across_models', 'models'].map((c) => col(f, c));
    assert.deepEqual(kl.map((r) => r[iDepth!]), [0, 0.25, 0.5, 0.75, 1]);
    // A interpolated: 1, .5, 0, 1/6, 1/3; B: 1, 0, 0, .25, .5
    const aKl = [1, 0.5, 0, 1 / 6, 1 / 3];
    const bKl = [1, 0, 0, 0.25, 0.5];
    kl.forEach((r, i) => {
      close(r[iMean!] as number, (aKl[i]! + bKl[i]!) / 2, 1e-5, `KL mean at ${i}`);
      close(r[iStd!] as number, Math.abs(aKl[i]! - bKl[i]!) / Math.SQRT2, 1e-5, `KL std at ${i}`);
      close(r[iSem!] as number, Math.abs(aKl[i]! - bKl[i]!) / 2, 1e-5, `KL sem at ${i}`);
      assert.equal(r[iN!], 2);
      close(r[col(f, 'normalized: three')] as number, aKl[i]!, 1e-5, `three at ${i}`);
      close(r[col(f, 'normalized: five')] as number, bKl[i]!, 1e-5, `five at ${i}`);
    });
    const prev = rowsOf(f, 'previous-5 local attention');
    [0.5, 0.375, 0.25, 0.125, 0].forEach((m, i) => close(prev[i]![iMean!] as number, m, 1e-5, `previous-5 mean at ${i}`));
  });

  test('signals held by one model are not averaged and the caption says so', () => {
    const f = fig();
    assert.equal(rowsOf(f, 'prediction neuron density').length, 0);
    assert.match(String(f.caption), /Not averaged: prediction neuron density \(only three has it\), suppression neuron density \(only three has it\)/);
    assert.match(String(f.caption), /three \(L = 3\), five \(L = 5\)/);
    assert.match(String(f.caption), /L<sub>max<\/sub> = 5 points/);
  });

  test('band: std across models by default (also when the report default sem is in effect), the sem only when --sigma sem is given', () => {
    const band = (f: Figure) => ((f.spec as any).vconcat[0].layer[0].data.values as Array<{ depth: number; lo: number; hi: number; signal: string }>).filter((r) => r.signal === 'deletion KL');
    const std = band(fig(false, 'sem'));
    // at 0.25: mean .25, std .5/√2 = .353553 → lo clipped to 0, hi .603553
    assert.equal(std[1]!.lo, 0);
    close(std[1]!.hi, 0.25 + 0.5 / Math.SQRT2, 1e-9, 'std band hi');
    assert.match(String(fig(false).caption), /±1 sample standard deviation across models/);
    const sem = band(fig(true, 'sem'));
    close(sem[1]!.lo, 0, 1e-9, 'sem band lo');
    close(sem[1]!.hi, 0.5, 1e-9, 'sem band hi');
    assert.match(String(fig(true, 'sem').caption), /±1 standard error across models/);
    close(band(fig(true, 'std'))[1]!.hi, 0.25 + 0.5 / Math.SQRT2, 1e-9, 'explicit std');
  });

  test('renders headless with the marks it announces and no Vega warnings', async () => {
    const f = fig();
    const { svg, warnings } = await renderSvg(f.spec);
    assert.deepEqual(warnings, []);
    // 2 averaged signals: a band and a line each, 5 grid points each; a small panel per signal
    assert.deepEqual(
      f.checks.map((c) => [c.name, c.count]),
      [
        ['fig1avg_band', 2],
        ['fig1avg_line', 2],
        ['fig1avg_pts', 10],
        ['fig1avg_s0_model', 2],
        ['fig1avg_s0_mean', 1],
        ['fig1avg_s1_model', 2],
        ['fig1avg_s1_mean', 1],
      ],
    );
    for (const c of f.checks) assert.equal(countMarks(svg, c.name), c.count, c.what);
  });

  test('one run: no averaged figure (not an empty chart), and a note naming what it needs', () => {
    const { figures, skipped } = buildFigures(loadRuns([a]), { sigma: 'sem' });
    assert.equal(figures[0]!.id, 'fig01-stage-signatures');
    assert.ok(!figures.some((f) => f.id.endsWith('stage-signatures-mean')));
    assert.deepEqual(skipped.find((s) => s.key === 'stage-signatures-mean'), { key: 'stage-signatures-mean', needs: 'two or more runs with metrics.json (delete), local-attention.json or neurons.json' });
  });

  test('partial sweeps: a grid point averages the models that reach it; curves with no common depth are not averaged', async () => {
    const keep = (dir: string, layers: number[]) => {
      const p = join(dir, 'metrics.json');
      const j = JSON.parse(readFileSync(p, 'utf8'));
      j.interventions = j.interventions.filter((r: { kind: string; layer: number }) => r.kind !== 'delete' || layers.includes(r.layer));
      writeFileSync(p, JSON.stringify(j));
      return dir;
    };
    const lo = keep(plantedRun(join(root, 'lo'), 'org/lo', { kl: [4, 2, 0, 0, 0], prev5: [1, 0, 0, 0, 0] }), [0, 1]);
    const hi = keep(plantedRun(join(root, 'hi'), 'org/hi', { kl: [0, 0, 0, 1, 3], prev5: [1, 1, 0, 0, 0] }), [3, 4]);
    const mid = keep(plantedRun(join(root, 'mid'), 'org/mid', { kl: [0, 5, 1, 3, 0], prev5: [0, 0, 0, 0, 1] }), [1, 2, 3]);
    const disjoint = averageSignatures(loadRuns([lo, hi]));
    assert.deepEqual(disjoint.signals.map((s) => s.signal), ['previous-5 local attention']);
    assert.deepEqual(disjoint.notAveraged, [{ signal: 'deletion KL', why: 'no depth is covered by two models' }]);
    const f = buildFigures(loadRuns([lo, hi]), { sigma: 'sem' }).figures[0]!;
    assert.match(String(f.caption), /Not averaged: deletion KL \(no depth is covered by two models\)/);
    // lo: KL 1, 0 at .0, .25; hi: 0, 1 at .75, 1; mid: 1, 0, 1/2 at .25, .5, .75
    const three = averageSignatures(loadRuns([lo, hi, mid])).signals.find((s) => s.signal === 'deletion KL')!;
    assert.deepEqual(three.points.map((p) => p.stat.n), [1, 2, 1, 2, 1]);
    assert.equal(three.points[1]!.stat.mean, 0.5);
    assert.equal(three.points[3]!.stat.mean, 0.25);
    for (const runs3 of [loadRuns([lo, hi]), loadRuns([lo, hi, mid])]) {
      const g = buildFigures(runs3, { sigma: 'sem' }).figures[0]!;
      const { svg, warnings } = await renderSvg(g.spec);
      assert.deepEqual(warnings, []);
      for (const c of g.checks) assert.equal(countMarks(svg, c.name), c.count, `${runs3.length} runs: ${c.what}`);
    }
  });

  test('the same model in two run folders: two curves, labelled by the end of their folder paths', () => {
    const x = plantedRun(join(root, 'x', 'run'), 'org/same', { kl: [4, 1, 2], prev5: [0.5, 0.3, 0.1] });
    const y = plantedRun(join(root, 'y', 'run'), 'org/same', { kl: [1, 2, 4], prev5: [0.1, 0.3, 0.5] });
    const two = loadRuns([x, y]);
    assert.deepEqual(two.map((r) => r.label), ['same [x/run]', 'same [y/run]']);
    const f = buildFigures(two, { sigma: 'sem' }).figures[0]!;
    assert.ok(f.id.endsWith('stage-signatures-mean'));
    assert.deepEqual(f.table.columns.slice(-2), ['normalized: same [x/run]', 'normalized: same [y/run]']);
    // x normalizes to 1, 0, 1/3 and y to 0, 1/3, 1
    const kl = rowsOf(f, 'deletion KL');
    close(kl[0]![col(f, 'mean')] as number, 0.5, 1e-9, 'KL mean at 0: (1 + 0) / 2');
    close(kl[1]![col(f, 'mean')] as number, (0 + 1 / 3) / 2, 1e-5, 'KL mean at 0.5');
  });
});
