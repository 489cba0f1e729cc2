import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildReport } from '../../src/report/build.js';
import { distinguishingSuffixes, loadRun, loadRuns } from '../../src/report/load-runs.js';
import { LayerlabError } from '../../src/util/errors.js';
import { writeFixtureRun } from './fixtures.js';
import { tempDir } from './helpers.js';

const root = tempDir();
after(() => rmSync(root, { recursive: true, force: true }));

describe('loadRun', () => {
  test('reads a complete flat run: every stage file and the sweep, provenance, data, layers', () => {
    const dir = writeFixtureRun(join(root, 'flat12'), { layers: 12, model: 'EleutherAI/pythia-160m' });
    const r = loadRun(dir);
    assert.equal(r.complete, true, r.missing.join('; '));
    assert.deepEqual(r.missing, []);
    assert.deepEqual(r.problems, []);
    assert.equal(r.plotted, true);
    assert.equal(r.layers, 12);
    assert.equal(r.label, 'pythia-160m');
    assert.equal(r.provenance?.model, 'EleutherAI/pythia-160m');
    assert.equal(r.data?.tokens, 40_880);
    assert.equal(r.sweep?.interventions.length, 12 + 11);
    for (const a of ['local-attention', 'subword-heads', 'logit-lens', 'neurons', 'mlp-norm', 'repeat', 'cka', 'wic', 'ing-probe', 'stages'] as const)
      assert.ok(r.stages[a], `${a} loaded`);
    assert.ok(r.sweepChoices && 'kl' in r.sweepChoices);
  });

  test('reads a paper run with sweep/ and stages/ subfolders', () => {
    const dir = writeFixtureRun(join(root, 'split24'), { layers: 24, layout: 'split', model: 'EleutherAI/pythia-410m' });
    const r = loadRun(dir);
    assert.equal(r.complete, true, r.missing.join('; '));
    assert.equal(r.layers, 24);
    assert.equal(r.manifest?.kind, 'paper');
    assert.deepEqual(r.parts.map((p) => p.sub), ['', 'sweep', 'stages']);
    assert.ok(r.files.includes(join('sweep', 'metrics.json')));
    assert.ok(r.files.includes(join('stages', 'cka.json')));
    assert.equal(r.stages.stages?.boundaries.length, 3);
  });

  test('an interrupted run is incomplete, lists what is missing, and is not plotted by default', () => {
    const dir = writeFixtureRun(join(root, 'killed'), { layers: 16, interruptedBefore: ['cka', 'stages'] });
    const r = loadRun(dir);
    assert.equal(r.complete, false);
    assert.equal(r.plotted, false);
    const text = r.missing.join('\n');
    assert.match(text, /did not finish/);
    assert.match(text, /requested but not complete: cka, stages/);
    assert.match(text, /cka\.json was not written/);
    assert.match(text, /stages\.json was not written/);
    assert.equal(r.stages.cka, undefined);
    assert.ok(r.stages['logit-lens'], 'complete files are still read');
    const shown = loadRun(dir, 0, { includeIncomplete: true });
    assert.equal(shown.plotted, true);
    assert.match(shown.label, /\(incomplete\)$/);
  });

  test('an interrupted paper run: the stages subfolder is reported with its prefix', () => {
    const dir = writeFixtureRun(join(root, 'killed-split'), { layers: 12, layout: 'split', interruptedBefore: ['neurons'] });
    const r = loadRun(dir);
    assert.equal(r.complete, false);
    assert.ok(r.missing.some((m) => m.startsWith('stages/.layerlab-run.json')), r.missing.join('; '));
    assert.ok(r.missing.some((m) => m.includes('stages/manifest.json: requested but not complete: neurons')), r.missing.join('; '));
    assert.ok(r.missing.some((m) => m.startsWith('manifest.json: requested but not complete: stages')), r.missing.join('; '));
  });

  test('a file listed as complete but deleted is reported missing', () => {
    const dir = writeFixtureRun(join(root, 'deleted'), { layers: 12 });
    rmSync(join(dir, 'neurons.json'));
    const r = loadRun(dir);
    assert.equal(r.complete, false);
    assert.ok(r.missing.includes('neurons.json is missing (listed as complete: neurons)'), r.missing.join('; '));
  });

  test('a manifest without finished_at (killed before the end, no run file) is incomplete', () => {
    const dir = writeFixtureRun(join(root, 'nofinish'), { layers: 12 });
    rmSync(join(dir, '.layerlab-run.json'));
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    delete m.finished_at;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    const r = loadRun(dir);
    assert.equal(r.complete, false);
    assert.match(r.missing.join('\n'), /no finished_at/);
  });

  test('a truncated or schema-breaking file is a problem, not plotted; the rest still loads', () => {
    const dir = writeFixtureRun(join(root, 'bad'), { layers: 12 });
    writeFileSync(join(dir, 'cka.json'), '{"analysis": "cka", "layers": 12, "lastTok');
    const lens = JSON.parse(readFileSync(join(dir, 'logit-lens.json'), 'utf8'));
    lens.per_point.pop();
    writeFileSync(join(dir, 'logit-lens.json'), JSON.stringify(lens));
    const r = loadRun(dir);
    assert.equal(r.stages.cka, undefined);
    assert.equal(r.stages['logit-lens'], undefined);
    assert.ok(r.stages.neurons);
    const text = r.problems.join('\n');
    assert.match(text, /cka\.json: is not valid JSON/);
    assert.match(text, /logit-lens\.json: per_point: has 12 entries, expected 13/);
  });

  test('fields of the wrong type: a one-line error for the manifest, a problem for a result file, never a crash (found by mutating every field of a run)', async () => {
    const dir = writeFixtureRun(join(root, 'types'), { layers: 4, model: 'x/types' });
    const edit = (file: string, f: (j: any) => void) => {
      const j = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      f(j);
      writeFileSync(join(dir, file), JSON.stringify(j));
    };
    const manifest = readFileSync(join(dir, 'manifest.json'), 'utf8');
    edit('manifest.json', (j) => {
      j.provenance.model = 42;
      j.data.tokens = null;
    });
    assert.throws(
      () => loadRun(dir),
      (e: unknown) => e instanceof LayerlabError && /manifest\.json/.test(e.message) && /provenance\.model/.test(e.message) && !e.message.includes('\n'),
    );
    writeFileSync(join(dir, 'manifest.json'), manifest);
    edit('repeat.json', (j) => (j.baseline_entropy_bits.mean = 'x'));
    edit('subword-heads.json', (j) => (j.heatmap.multi[0].tokens[0] = null));
    const r = loadRun(dir);
    assert.equal(r.problems.length, 2, r.problems.join('\n'));
    assert.match(r.problems.join('\n'), /subword-heads\.json: heatmap\.multi\[0\]\.tokens\[0\]: .*expected string/);
    assert.match(r.problems.join('\n'), /repeat\.json: baseline_entropy_bits\.mean: .*expected number/);
    const report = await buildReport({ dirs: [dir], out: join(root, 'types-out', 'r.html'), static: false });
    assert.ok(report.figures.length > 0, 'the other files are still drawn');
  });

  test('files disagreeing on the number of layers are flagged', () => {
    const dir = writeFixtureRun(join(root, 'mixed'), { layers: 12 });
    const other = writeFixtureRun(join(root, 'other'), { layers: 8 });
    writeFileSync(join(dir, 'mlp-norm.json'), readFileSync(join(other, 'mlp-norm.json')));
    const r = loadRun(dir);
    assert.match(r.problems.join('\n'), /disagree on the number of layers: 12 .*; 8 \(mlp-norm\.json\)/);
    assert.equal(r.layers, 12);
  });

  test('bad input: missing folder, a file, a folder with nothing of layerlab, a broken manifest', () => {
    assert.throws(() => loadRun(join(root, 'nope')), (e: unknown) => e instanceof LayerlabError && /does not exist/.test(e.message));
    const f = join(root, 'file.txt');
    writeFileSync(f, 'x');
    assert.throws(() => loadRun(f), /is not a directory/);
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'notes.md'), 'hi');
    assert.throws(() => loadRun(empty), /not a layerlab run folder/);
    const bad = join(root, 'badmanifest');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'manifest.json'), '{"kind": "other"}');
    assert.throws(() => loadRun(bad), /not a layerlab manifest: kind: .*"sweep"\|"stages"\|"paper"\|"evaluate"/);
  });

  test('a run killed right after it started (only .layerlab-run.json) is incomplete, not an error', () => {
    const dir = join(root, 'just-started');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.layerlab-run.json'), JSON.stringify({ key: '{}', finished: false, files: [] }));
    const r = loadRun(dir);
    assert.equal(r.complete, false);
    assert.match(r.missing.join('\n'), /manifest\.json is missing/);
    assert.match(r.missing.join('\n'), /no result files/);
  });
});

describe('loadRuns', () => {
  test('labels are unique, colors follow the order, --labels must match the folders', () => {
    const a = writeFixtureRun(join(root, 'same-a'), { layers: 12, model: 'org/m' });
    const b = writeFixtureRun(join(root, 'same-b'), { layers: 12, model: 'org/m' });
    const runs = loadRuns([a, b]);
    assert.deepEqual(runs.map((r) => r.label), ['m [same-a]', 'm [same-b]']);
    assert.notEqual(runs[0]!.color, runs[1]!.color);
    assert.deepEqual(loadRuns([a, b], { labels: ['x', 'y'] }).map((r) => r.label), ['x', 'y']);
    assert.throws(() => loadRuns([a, b], { labels: ['x'] }), /--labels has 1 names for 2 directories/);
    assert.throws(() => loadRuns([]), /no run directories/);
  });

  test('more plotted runs than run colors: the report warns which runs share a color', async () => {
    const dirs = Array.from({ length: 9 }, (_, i) =>
      writeFixtureRun(join(root, 'many', `m${i}`), { layers: 4, model: `org/m${i}`, omit: ['subword-heads', 'logit-lens', 'mlp-norm', 'repeat', 'cka', 'wic', 'stages'] }),
    );
    const eight = await buildReport({ dirs: dirs.slice(0, 8), out: join(root, 'many', 'eight.html'), static: false });
    assert.deepEqual(eight.warnings, []);
    const nine = await buildReport({ dirs, out: join(root, 'many', 'nine.html'), static: false });
    assert.deepEqual(nine.warnings, ['the report has 8 run colors, so these plotted runs share one: m0 and m8 (tell them apart by tooltips and tables, or report fewer runs at a time)']);
  });

  test('the same model in folders of the same name: labelled by the end of the path that differs', () => {
    const x = writeFixtureRun(join(root, 'lab-x', 'run'), { layers: 4, model: 'org/m' });
    const y = writeFixtureRun(join(root, 'lab-y', 'run'), { layers: 4, model: 'org/m' });
    const z = writeFixtureRun(join(root, 'lab-z'), { layers: 4, model: 'org/other' });
    assert.deepEqual(loadRuns([x, y, z]).map((r) => r.label), ['m [lab-x/run]', 'm [lab-y/run]', 'other']);
    assert.deepEqual(distinguishingSuffixes(['/r/a/b/run', '/r/c/b/run', '/r/d']), ['a/b/run', 'c/b/run', 'r/d']);
    assert.deepEqual(distinguishingSuffixes(['/r/a', '/r/b']), ['a', 'b']);
    // one folder given twice cannot be told apart from itself: its whole path, then #2
    const same = loadRuns([x, x]).map((r) => r.label);
    assert.equal(new Set(same).size, 2, same.join(' | '));
    assert.ok(same[0]!.includes(`${x.replace(/^\//, '')}]`), same[0]);
  });
});
