/**
 * The naming rule of docs/results.md: every key of every JSON file layerlab writes is snake_case. Checked
 * on real run folders (stages on a golden model, offline; and, with ../shared, `paper` with benchmarks
 * and `evaluate` on stories260k) and on the report's fixtures, by walking every .json and .jsonl file
 * under the folder. Keys that are data (window sizes, intervention kinds, plan names) sit only under the
 * record paths of DATA_KEY_PATHS (src/results/naming.ts): '1', '2', ... under local-attention.json's
 * per_layer[].windows, delete/swap/... under metrics.json's summary, plan names such as plan_0-1-3-2
 * under predictions in evaluate's details/<task>.jsonl.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { TASKS } from '../../src/evaluate/tasks/registry.js';
import { loadModelDir } from '../../src/model/model.js';
import { loadRun } from '../../src/report/load-runs.js';
import { DATA_KEY_PATHS, firstNonSnakeKey, namingProblem, snakeCase, snakeCaseKeys } from '../../src/results/naming.js';
import { checkResult, writeResultFile } from '../../src/results/run-files.js';
import { runPaper } from '../../src/runs/paper.js';
import { runStages } from '../../src/runs/stages.js';
import { writeEvaluateFixture } from '../evaluate/fixture.js';
import { openGolden } from '../helpers/golden.js';
import { needsShared, repoRoot, sharedPath } from '../helpers/shared.js';
import { writeFixtureRun } from '../report/fixtures.js';
import { tempDir } from '../report/helpers.js';
import { charTokenizer, syntheticCorpus } from '../stages/helpers.js';

const root = tempDir('layerlab-naming-');
after(() => rmSync(root, { recursive: true, force: true }));

/** Every JSON document under `dir` (each line of a .jsonl file is one), with its path relative to `dir`. */
function jsonDocuments(dir: string): Array<{ where: string; value: unknown }> {
  const out: Array<{ where: string; value: unknown }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json')) out.push({ where: relative(dir, p), value: JSON.parse(readFileSync(p, 'utf8')) });
      else if (name.endsWith('.jsonl'))
        readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).forEach((l, i) => out.push({ where: `${relative(dir, p)}:${i + 1}`, value: JSON.parse(l) }));
    }
  };
  walk(dir);
  return out;
}

/** Asserts the rule on every JSON file of a run folder, and that the folder has the files it should. */
function assertSnakeCase(dir: string, expected: string[]): void {
  const docs = jsonDocuments(dir);
  const files = new Set(docs.map((d) => d.where.replace(/:\d+$/, '')));
  for (const f of expected) assert.ok(files.has(f), `${f} was written`);
  for (const { where, value } of docs) assert.equal(firstNonSnakeKey(value), undefined, `${where}: a key that is not snake_case`);
}

test('the rule itself: snake_case keys pass, camelCase anywhere fails, data-key records are exempt', () => {
  assert.equal(firstNonSnakeKey({ per_layer: [{ relative_depth: 0, windows: { '1': {}, '16': {} } }], rank_of_final_top1: 1 }), undefined);
  assert.equal(firstNonSnakeKey({ per_layer: [{ relativeDepth: 0 }] }), 'per_layer[].relativeDepth');
  assert.equal(firstNonSnakeKey({ choices: { data: { seqLen: 4 } } }), 'choices.data.seqLen');
  assert.equal(firstNonSnakeKey({ summary: { 'repeat:5': {} } }), undefined, 'summary is keyed by data');
  assert.equal(firstNonSnakeKey({ summary: { delete: { meanKl: 1 } } }), 'summary.*.meanKl', 'values under a data record are still checked');
  // Writing checks choices too; reading skips them (a reader only shows their names).
  assert.match(namingProblem({ choices: { includeBos: true } }, 'write')!, /^choices\.includeBos: key is not snake_case/);
  assert.equal(namingProblem({ choices: { includeBos: true } }, 'read'), undefined);
  assert.throws(() => writeResultFile(join(root, 'mlp-norm.json'), { choices: { errorBars: 'x' } }), /mlp-norm\.json: not a valid mlp-norm\.json: choices\.errorBars: key is not snake_case/);
  for (const bad of ['Kind', 'kl__mean', '_x', 'x_', 'a-b', 'a b', ''])
    assert.notEqual(firstNonSnakeKey({ [bad]: 1 }), undefined, JSON.stringify(bad));
  assert.deepEqual(DATA_KEY_PATHS, ['per_layer[].windows', 'summary', 'predictions']);
  assert.equal(snakeCase('allTokensIncludeBos'), 'all_tokens_include_bos');
  assert.deepEqual(snakeCaseKeys({ batchSize: 4, nested: [{ maxSeq: 2 }] }), { batch_size: 4, nested: [{ max_seq: 2 }] });
});

test('a file with a camelCase key is one problem line naming it as from an older layerlab version, in the validator and the report', () => {
  const dir = writeFixtureRun(join(root, 'old'), { layers: 6 });
  const path = join(dir, 'logit-lens.json');
  const lens = JSON.parse(readFileSync(path, 'utf8'));
  lens.perPoint = lens.per_point;
  delete lens.per_point;
  writeFileSync(path, JSON.stringify(lens));
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  m.finishedAt = m.finished_at;
  delete m.finished_at;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));

  assert.match(checkResult('logit-lens.json', lens)!, /^perPoint: key is not snake_case: the file is from an older layerlab version/);
  const run = loadRun(dir);
  const problems = run.problems.join('\n');
  assert.match(problems, /^manifest\.json: finishedAt: key is not snake_case: the file is from an older layerlab version/m);
  assert.match(problems, /^logit-lens\.json: perPoint: key is not snake_case: .*older layerlab version.* \(not plotted\)$/m);
  assert.equal(run.stages['logit-lens'], undefined);
  assert.ok(run.stages['mlp-norm'], 'the other files still load');

  // The CLI: a warning per file, exit 0, no stack trace.
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'report', dir, '--out', join(root, 'old-report'), '--no-png'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /logit-lens\.json: perPoint: key is not snake_case: the file is from an older layerlab version/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('the report fixtures (flat, paper layout, evaluate) follow the rule', () => {
  assertSnakeCase(writeFixtureRun(join(root, 'flat'), { layers: 8 }), ['manifest.json', 'metrics.json', 'local-attention.json', 'cka.json', 'stages.json', '.layerlab-run.json']);
  assertSnakeCase(writeFixtureRun(join(root, 'split'), { layers: 8, layout: 'split' }), ['manifest.json', 'sweep/metrics.json', 'stages/wic.json']);
  assertSnakeCase(writeEvaluateFixture(join(root, 'eval-fixture'), { layers: 8, model: 'fixture' }), ['manifest.json', 'evaluate.json']);
});

test('a real stages run (every analysis, probe included) on golden gpt2 writes only snake_case keys', async () => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const out = join(root, 'stages');
  mkdirSync(out);
  const probe = join(root, 'probe.jsonl');
  const words = ['alpha beta', 'gamma delta', 'eps zeta', 'eta theta'];
  writeFileSync(probe, Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: `${words[i % 4]} ${i}`, start: 0, end: 4, label: i % 2 ? 'a' : 'b', split: i < 16 ? 'train' : 'dev' })).join('\n'));
  await runStages(
    { model, tokenizer: charTokenizer(model.config.vocabSize), bos: 1, corpus: syntheticCorpus(8, 30), dataFile: 'synthetic', outDir: out },
    { seqLen: 16, progress: false, repeatDocs: 3, cka: { batchSize: 4, allTokensIncludeBos: true }, subword: { multiTokens: 4, maxExamples: 20 }, probeFile: probe, wicDir: sharedPath('data', 'wic'), wic: { maxTrain: 30, maxDev: 10, maxIter: 20 } },
  );
  assertSnakeCase(out, ['manifest.json', '.layerlab-run.json', 'local-attention.json', 'subword-heads.json', 'logit-lens.json', 'neurons.json', 'mlp-norm.json', 'repeat.json', 'cka.json', 'wic.json', 'probe.json', 'stages.json']);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.choices.cka, { batch_size: 4, all_tokens_include_bos: true }, 'option objects recorded with snake_case keys');
  assert.equal(manifest.data.seq_len, 16);
  const windows = JSON.parse(readFileSync(join(out, 'local-attention.json'), 'utf8')).per_layer[0].windows;
  assert.deepEqual(Object.keys(windows), ['1', '2', '4', '8', '16'], 'window sizes stay data keys');
});

const paperSkip = needsShared('models', 'stories260k').skip ?? needsShared('data', 'arc_easy').skip ?? needsShared('weights', 'text', 'tinystories_valid_prefix.txt').skip;
test('a real paper run with benchmarks (sweep, stages, evaluate, report) and evaluate alone on stories260k write only snake_case keys', { skip: paperSkip }, async () => {
  const data = join(root, 'stories.txt');
  writeFileSync(data, readFileSync(sharedPath('weights', 'text', 'tinystories_valid_prefix.txt')!, 'utf8').slice(0, 6_000));
  const out = join(root, 'paper');
  await runPaper(loadModelDir(sharedPath('models', 'stories260k')!), {
    data, out, maxTokens: 400, png: false, tasks: [TASKS.arc_easy!, TASKS.lambada_openai!], taskDir: sharedPath('data')!, taskLimit: 4, command: ['paper', '--test'],
  });
  assertSnakeCase(out, ['manifest.json', 'sweep/metrics.json', 'sweep/manifest.json', 'stages/manifest.json', 'stages/cka.json', 'stages/wic.json', 'evaluate/evaluate.json', 'evaluate/details/arc_easy.jsonl']);

  // evaluate with a custom plan: its name (plan_0-1-3-2-4) is a data key under predictions.
  const ev = join(root, 'evaluate');
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'evaluate', '--model', sharedPath('models', 'stories260k')!, '--task-dir', sharedPath('data')!,
    '--limit', '4', '--interventions', 'delete,plan:0,1,3,2,4', '--out', ev], { encoding: 'utf8', env: { ...process.env, LAYERLAB_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assertSnakeCase(ev, ['manifest.json', 'evaluate.json', 'details/hellaswag.jsonl']);
  // Line 1 is the provenance header; line 2 the first item.
  const line = JSON.parse(readFileSync(join(ev, 'details', 'hellaswag.jsonl'), 'utf8').split('\n')[1]);
  assert.ok('plan_0-1-3-2-4' in line.predictions);
});
