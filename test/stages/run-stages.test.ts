import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelDir } from '../../src/model/model.js';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { readDocuments } from '../../src/data/documents.js';
import { runStages, STAGE_FILES, type StagesOptions } from '../../src/runs/stages.js';
import type { Manifest, ProbeResult, StageBoundariesResult, SubwordHeadsResult } from '../../src/results/schema.js';
import { goldenNames, openGolden } from '../helpers/golden.js';
import { needsShared, repoRoot, sharedPath } from '../helpers/shared.js';
import { charTokenizer, syntheticCorpus, tempDir } from './helpers.js';

const ALL = ['local-attention', 'subword-heads', 'logit-lens', 'neurons', 'mlp-norm', 'repeat', 'cka', 'wic', 'ing-probe', 'stages'] as const;
const readJ = <T>(dir: string, f: string): T => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;

for (const name of goldenNames()) {
  test(`every analysis runs on golden ${name} (char tokenizer, synthetic corpus)`, async (t) => {
    const g = openGolden(name);
    const model = loadModelDir(g.dir);
    const L = model.config.nLayers;
    const out = tempDir(t);
    const wic = sharedPath('data', 'wic');
    const { manifest, results } = await runStages(
      { model, tokenizer: charTokenizer(model.config.vocabSize), bos: 1, corpus: syntheticCorpus(12, 40), dataFile: 'synthetic', outDir: out },
      { seqLen: Math.min(24, model.config.nCtx), progress: false, repeatDocs: 3, cka: { batchSize: 4 }, subword: { multiTokens: 4, maxExamples: 40 }, wicDir: wic, wic: { maxTrain: 60, maxDev: 30 }, analyses: [...ALL, 'probe'] },
    );
    assert.equal(manifest.kind, 'stages');
    assert.deepEqual(manifest.complete, [...ALL, 'probe']);
    for (const a of [...ALL, 'probe'] as const) assert.ok(existsSync(join(out, STAGE_FILES[a])), a);
    assert.equal(results['logit-lens']!.per_point.length, L + 1);
    assert.equal(results['local-attention']!.per_layer.length, L);
    assert.equal(results['mlp-norm']!.per_layer.length, L);
    assert.equal(results.neurons!.per_layer.length, L);
    assert.equal(results.cka!.last_token!.matrix.length, L);
    results.cka!.all_tokens!.matrix.forEach((row, i) => assert.equal(row[i], 1));
    assert.equal(results.repeat!.rows.length, [3, 5].reduce((s, k) => s + Math.max(0, L - k + 1), 0));
    const sub = results['subword-heads']!;
    assert.equal(sub.heads.length, L * model.config.nHeads);
    assert.ok(sub.examples.multi > 0 && sub.examples.single === sub.examples.multi);
    assert.equal(sub.heatmap.multi[0].attention.length, 16);
    assert.equal(results.probe!.status, 'skipped');
    // The char tokenizer has no "-ing" token: nothing to select on, recorded as skipped.
    assert.equal(results['ing-probe']!.status, 'skipped');
    if (wic) {
      assert.equal(results.wic!.status, 'done');
      assert.deepEqual(results.wic!.examples, { train: 60, dev: 30 });
    } else assert.equal(results.wic!.status, 'skipped');
    assert.equal(results.stages!.boundaries.length, L >= 4 ? 3 : 0);
  });
}

test('stories260k: all analyses through runStages, values in range', needsShared('models', 'stories260k'), async (t) => {
  const dir = sharedPath('models', 'stories260k')!;
  const textFile = sharedPath('weights', 'text', 'tinystories_valid_prefix.txt');
  if (!textFile) return t.skip('missing ../shared/weights/text/tinystories_valid_prefix.txt');
  const model = loadModelDir(dir);
  const tokenizer = loadTokenizer(dir, model.config);
  const out = tempDir(t);
  const corpus = await readDocuments(textFile, { maxDocs: 400 });
  const { manifest, results } = await runStages(
    { model, tokenizer, bos: 1, corpus, dataFile: textFile, outDir: out },
    { maxTokens: 6000, progress: false, subword: { maxExamples: 200 } },
  );
  assert.deepEqual(manifest.complete, [...ALL]);
  assert.equal(manifest.data!.tokens, 6000);
  const ll = results['logit-lens']!.per_point;
  assert.equal(ll.length, 6);
  assert.equal(ll[5].kl_bits.mean, 0);
  assert.ok(ll[0].kl_bits.mean! > ll[3].kl_bits.mean!);
  const mlp = results['mlp-norm']!.per_layer.map((p) => p.norm.mean!);
  assert.ok(mlp[4] > mlp[0], 'MLP output norm grows towards the last layer');
  const sub = results['subword-heads'] as SubwordHeadsResult;
  assert.equal(sub.examples.multi_tokens, 4);
  assert.ok(sub.heads[0].score > 0.3, `a sub-word merging head exists: best score ${sub.heads[0].score}`);
  assert.equal((results.wic as ProbeResult).status, 'skipped');
  const st = results.stages as StageBoundariesResult;
  assert.equal(st.boundaries.length, 3);
  assert.ok(st.boundaries[0].layer < st.boundaries[1].layer && st.boundaries[1].layer < st.boundaries[2].layer);
});

test('resume: an interrupted run continues at the next batch, keeps finished files, and matches an uninterrupted run', async (t) => {
  const g = openGolden('gpt2');
  const model = loadModelDir(g.dir);
  const corpus = syntheticCorpus(10, 30, 5);
  const input = (outDir: string) => ({ model, tokenizer: charTokenizer(model.config.vocabSize), bos: 1, corpus, dataFile: 'synthetic', outDir });
  const base: StagesOptions = { seqLen: 16, batchTokens: 32, progress: false, saveEverySeconds: 0, analyses: ['neurons', 'logit-lens', 'local-attention', 'mlp-norm', 'cka', 'repeat', 'stages'], cka: { batchSize: 4 } };
  const ref = await runStages(input(tempDir(t)), base);

  const out = tempDir(t);
  let total = 0;
  await assert.rejects(runStages(input(out), { ...base, onBatch: (d, n) => { total = n; if (d === 3) throw new Error('killed'); } }), /killed/);
  assert.ok(total > 4);
  const neuronsTime = statSync(join(out, 'neurons.json')).mtimeMs;
  assert.ok(!existsSync(join(out, 'logit-lens.json')));
  const m = readJ<Manifest>(out, 'manifest.json');
  assert.deepEqual(m.complete, ['neurons']);
  const seen: number[] = [];
  const res = await runStages(input(out), { ...base, onBatch: (d) => seen.push(d) });
  assert.equal(seen[0], 4, 'resumed after the 3 saved batches');
  assert.equal(statSync(join(out, 'neurons.json')).mtimeMs, neuronsTime, 'a finished analysis is not recomputed');
  const strip = (r: object) => JSON.parse(JSON.stringify(r, (k, v) => (k === 'provenance' ? undefined : v)));
  for (const a of ['logit-lens', 'local-attention', 'mlp-norm', 'cka', 'repeat', 'stages'] as const) assert.deepEqual(strip(res.results[a]!), strip(ref.results[a]!), a);
  assert.ok(res.manifest.finished_at);
});

test('CLI: layerlab stages on stories260k writes the manifest and the requested analyses', needsShared('models', 'stories260k'), (t) => {
  const textFile = sharedPath('weights', 'text', 'tinystories_valid_prefix.txt');
  if (!textFile) return t.skip('missing ../shared/weights/text/tinystories_valid_prefix.txt');
  const out = join(tempDir(t), 'run');
  const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  execFileSync(process.execPath, [cli, 'stages', '--model', sharedPath('models', 'stories260k')!, '--data', textFile, '--max-tokens', '2000', '--analyses', 'logit-lens,neurons,mlp-norm,wic,stages', '--out', out], { stdio: 'pipe' });
  const m = readJ<Manifest>(out, 'manifest.json');
  assert.equal(m.kind, 'stages');
  assert.deepEqual(m.complete, ['logit-lens', 'neurons', 'mlp-norm', 'wic', 'stages']);
  assert.equal(readJ<ProbeResult>(out, 'wic.json').status, 'skipped');
  assert.ok(m.command.includes('stages'));
  const bad = spawnSync(process.execPath, [cli, 'stages', '--model', sharedPath('models', 'stories260k')!, '--data', textFile, '--analyses', 'nope', '--out', join(out, 'x')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown analysis 'nope'/);
});
