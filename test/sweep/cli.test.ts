import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDocuments } from '../../src/data/documents.js';
import { makeWindows } from '../../src/data/windows.js';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import { loadTokenizer } from '../../src/load/tokenizer.js';
import { loadModelDir } from '../../src/model/model.js';
import { runSweep } from '../../src/sweep/engine.js';
import { deletePlan } from '../../src/sweep/interventions.js';
import { tempDir, writeTemp } from '../data/helpers/temp.js';
import { needsShared, repoRoot, sharedPath } from '../helpers/shared.js';

const modelDir = sharedPath('models', 'stories260k');
const opts = needsShared('models', 'stories260k');
const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function sweep(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [main, 'sweep', '--model', modelDir!, ...args], {
    encoding: 'utf8', env: { ...process.env, LAYERLAB_THREADS: '1', ...env }, timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

const readJsonFile = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
/** metrics.json without the per-process provenance timestamp. */
const comparable = (p: string) => {
  const m = readJsonFile(p);
  delete m.provenance.created;
  return m;
};

// Made at top level: a temp folder made inside a test is removed when that test ends.
const scratch = tempDir('layerlab-sweep-');
let corpus: string | undefined;
/** Real text: the TinyStories evaluation ids of expected.safetensors, decoded, in a temp file. */
function corpusFile(): string {
  if (corpus) return corpus;
  const ids = [...SafetensorsFile.open(join(modelDir!, 'expected.safetensors')).readInts('eval_ids')].slice(0, 700);
  const text = loadTokenizer(modelDir!).decode(ids);
  assert.ok(text.includes('\n\n'), 'several documents');
  corpus = writeTemp(scratch, 'stories.txt', text);
  return corpus;
}

const common = ['--interventions', 'delete,swap,plan:0,1,2,3,4', '--seq-len', '64', '--batch-tokens', '192'];

test('sweep CLI on real text: metrics.json, metrics.csv and manifest.json with every field', opts, async () => {
  const data = corpusFile();
  const out = join(scratch, 'run');
  const r = sweep(['--data', data, ...common, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote .*metrics\.json and metrics\.csv: 10 interventions/);

  const m = readJsonFile(join(out, 'metrics.json'));
  const fields = ['kind', 'layer', 'plan', 'tokens', 'kl_mean', 'kl_std', 'kl_sem', 'agreement', 'accuracy', 'accuracy_baseline', 'loss', 'loss_baseline', 'entropy_bits', 'entropy_bits_baseline'];
  assert.equal(m.interventions.length, 10);
  for (const row of m.interventions) for (const f of fields) assert.ok(row[f] !== undefined && row[f] !== null, `${row.name}.${f}`);
  assert.deepEqual(m.interventions.map((r: { kind: string; layer: number }) => `${r.kind}${r.layer}`), ['delete0', 'delete1', 'delete2', 'delete3', 'delete4', 'swap0', 'swap1', 'swap2', 'swap3', 'plan-1']);
  const identity = m.interventions[9];
  assert.equal(identity.kl_mean, 0);
  assert.equal(identity.agreement, 1);
  assert.equal(identity.loss, identity.loss_baseline);
  for (const row of m.interventions) assert.ok(row.kl_mean >= 0 && row.agreement >= 0 && row.agreement <= 1);
  assert.ok(m.baseline.loss > 0.5 && m.baseline.loss < 4, `baseline loss ${m.baseline.loss}`);
  assert.equal(m.summary.delete.interventions, 5);
  const meanAg = m.interventions.slice(0, 5).reduce((s: number, r: { agreement: number }) => s + r.agreement, 0) / 5;
  assert.ok(Math.abs(m.summary.delete.mean_agreement - meanAg) < 1e-15);
  assert.match(m.summary.delete.definition, /unweighted mean/);

  const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 11);
  assert.match(csv[0], /^kind,layer,relative_depth,name,plan,tokens,docs,kl_mean,kl_std,kl_sem,agreement/);
  assert.match(csv[1], /^delete,0,0,delete_0,1 2 3 4,/);

  const man = readJsonFile(join(out, 'manifest.json'));
  assert.equal(man.kind, 'sweep');
  assert.equal(man.data.sha256, createHash('sha256').update(readFileSync(data)).digest('hex'));
  assert.equal(man.data.tokens, m.baseline.tokens);
  assert.equal(man.data.seq_len, 64);
  assert.equal(man.provenance.layerlab_version, '0.1.0');
  assert.ok(man.provenance.git_commit && man.provenance.backend && man.provenance.stored_dtype === 'F32');
  assert.equal(man.interventions.length, 10);
  assert.deepEqual(man.requested, ['delete', 'swap', 'plan:0,1,2,3,4']);
  assert.deepEqual(man.complete, man.requested);
  assert.ok(man.finished_at);
  for (const k of ['positions_loss_accuracy', 'positions_kl_agreement_entropy', 'pooling', 'sem', 'kl', 'summary', 'seq_len', 'batch_tokens'])
    assert.ok(man.choices[k] !== undefined, k);
  assert.ok(!existsSync(join(out, '.state')));

  // The CLI's numbers are the engine's on the same windows (documents -> BOS windows -> batches).
  const model = loadModelDir(modelDir!);
  const docs = await readDocuments(data);
  const win = makeWindows(docs.docs, loadTokenizer(modelDir!, model.config), { bos: 1, seqLen: 64 });
  assert.equal(win.tokens, man.data.tokens);
  const direct = runSweep(model, [deletePlan(2, 5)], { windows: win.windows, docIndex: win.docIndex }, { maxBatchTokens: 192 });
  assert.equal(direct.plans[0].kl.summary().mean, m.interventions[2].kl_mean);
  assert.equal(direct.plans[0].loss.summary().sem, m.interventions[2].loss_sem);
});

test('sweep CLI: killed with SIGKILL after saved batches, the same command resumes and ends with the uninterrupted results', opts, () => {
  const data = corpusFile();
  const root = join(scratch, 'kill');
  const ref = join(root, 'ref'), run = join(root, 'killed');
  assert.equal(sweep(['--data', data, ...common, '--out', ref]).status, 0);

  const k1 = sweep(['--data', data, ...common, '--out', run], { LAYERLAB_TEST_KILL_AFTER_UNITS: '2' });
  assert.equal(k1.signal, 'SIGKILL', k1.stderr);
  assert.ok(!existsSync(join(run, 'metrics.json')));
  const saved = readJsonFile(join(run, '.state', 'sweep-job-0-0-partial.json')).state;
  assert.equal(saved.batches_done, 2);
  assert.ok(saved.batches > 3);

  // Killed again later on: progress is kept, never redone.
  const k2 = sweep(['--data', data, ...common, '--out', run], { LAYERLAB_TEST_KILL_AFTER_UNITS: '1' });
  assert.equal(k2.signal, 'SIGKILL');
  assert.match(k2.stderr, /resuming .*: 2 of \d+ batches done/);
  assert.equal(readJsonFile(join(run, '.state', 'sweep-job-0-0-partial.json')).state.batches_done, 3);

  const done = sweep(['--data', data, ...common, '--out', run]);
  assert.equal(done.status, 0, done.stderr);
  assert.match(done.stderr, /resuming .*: 3 of \d+ batches done/);
  assert.deepEqual(comparable(join(run, 'metrics.json')), comparable(join(ref, 'metrics.json')));
  assert.equal(readFileSync(join(run, 'metrics.csv'), 'utf8'), readFileSync(join(ref, 'metrics.csv'), 'utf8'));

  // A finished run is not resumed: the same command starts over (and gives the same numbers).
  const again = sweep(['--data', data, ...common, '--out', run]);
  assert.equal(again.status, 0);
  assert.doesNotMatch(again.stderr, /resuming/);
  assert.deepEqual(comparable(join(run, 'metrics.json')), comparable(join(ref, 'metrics.json')));
});

test('sweep CLI: unreadable, empty or wrong data and impossible plans are clear errors', opts, () => {
  const dir = join(scratch, 'errors');
  mkdirSync(dir);
  const out = join(dir, 'out');
  const cases: [string[], RegExp][] = [
    [['--data', join(dir, 'missing.txt')], /missing\.txt: .*(not exist|no such|not found)/i],
    [['--data', writeTemp(dir, 'empty.txt', '')], /empty\.txt: corpus file is empty/],
    [['--data', writeTemp(dir, 'blank.jsonl', '\n\n')], /no documents found/],
    [['--data', writeTemp(dir, 'nofield.jsonl', '{"body": "Once upon a time"}\n')], /nofield\.jsonl: line 1 has no "text" field/],
    [['--data', writeTemp(dir, 'ok.jsonl', '{"story": "Once upon a time"}\n'), '--text-field', 'text'], /no "text" field/],
    [['--data', writeTemp(dir, 'ok2.txt', 'Once upon a time.'), '--interventions', 'delete,plan:0,1,9'], /plan:0,1,9 names block 9, but the model has blocks 0\.\.4/],
    [['--data', writeTemp(dir, 'ok3.txt', 'Once upon a time.'), '--interventions', 'shuffle'], /unknown intervention 'shuffle'/],
    [['--data', writeTemp(dir, 'ok4.txt', 'Once upon a time.'), '--interventions', 'repeat:6'], /repeat:6: the model has only 5 blocks/],
    [['--data', mkdirSync(join(scratch, 'a-folder'), { recursive: true }) ?? join(scratch, 'a-folder')], /is a directory/],
  ];
  for (const [args, re] of cases) {
    const r = sweep([...args, '--out', out]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^layerlab: /);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  mkdirSync(join(dir, 'foreign'));
  writeTemp(join(dir, 'foreign'), 'x.txt', 'not ours');
  const r = sweep(['--data', join(dir, 'ok2.txt'), '--out', join(dir, 'foreign')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /not written by layerlab/);
});
