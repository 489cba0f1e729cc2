/**
 * `layerlab evaluate` end to end on stories260k and the local task files (--limit 50; skipped when
 * ../shared is absent): result files with provenance, metrics that re-derive from details/, resumption
 * after a kill with identical numbers, and one-line errors for missing task data.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir, writeTemp } from '../data/helpers/temp.js';
import { needsShared, repoRoot, sharedPath } from '../helpers/shared.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const modelDir = sharedPath('models', 'stories260k');
const needs = needsShared('models', 'stories260k').skip ? needsShared('models', 'stories260k') : needsShared('data');
const scratch = tempDir('layerlab-evaluate-');

function evaluate(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [main, 'evaluate', ...args], { encoding: 'utf8', env: { ...process.env, LAYERLAB_THREADS: '1', ...env }, timeout: 300_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const lines = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

test('evaluate on stories260k, three tasks, --limit 50: evaluate.json/csv, details, manifest, all consistent', needs, () => {
  const out = join(scratch, 'full');
  const r = evaluate(['--model', modelDir!, '--task-dir', sharedPath('data')!, '--limit', '50', '--interventions', 'delete,swap', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const res = readJson(join(out, 'evaluate.json'));
  assert.equal(res.layers, 5);
  assert.ok(res.provenance.model && res.provenance.git_commit && res.provenance.layerlab_version);
  assert.equal(res.rows.length, 3 * (1 + 5 + 4), 'baseline + 5 deletes + 4 swaps per task');
  for (const row of res.rows) {
    assert.deepEqual(Object.keys(row).sort(), ['acc', 'acc_norm', 'acc_norm_stderr', 'acc_stderr', 'kind', 'layer', 'n', 'name', 'perplexity', 'perplexity_stderr', 'plan', 'relative_depth', 'task']);
    assert.equal(row.n, 50);
    const mc = row.task !== 'lambada_openai';
    assert.equal(row.acc_norm === null, !mc);
    assert.equal(row.perplexity === null, mc);
    assert.ok(row.acc >= 0 && row.acc <= 1);
    assert.ok(Math.abs(row.acc_stderr - Math.sqrt((row.acc * (1 - row.acc)) / 49)) < 1e-12, 'sqrt(p(1-p)/(n-1))');
  }
  const csv = readFileSync(join(out, 'evaluate.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 31);
  assert.match(csv[0], /^task,kind,layer,relative_depth,name,plan,n,acc,acc_stderr,acc_norm,acc_norm_stderr,perplexity,perplexity_stderr,model,/);
  const manifest = readJson(join(out, 'manifest.json'));
  assert.equal(manifest.kind, 'evaluate');
  assert.deepEqual(manifest.complete, ['lambada_openai', 'arc_easy', 'hellaswag']);
  assert.ok(manifest.finished_at);
  assert.equal(manifest.choices.bos_rule, 'harness');

  // Every metric re-derives from details/: per-plan predictions and gold (MC), ll and greedy (LAMBADA).
  for (const task of ['arc_easy', 'hellaswag', 'lambada_openai']) {
    const [header, ...items] = lines(join(out, 'details', `${task}.jsonl`));
    assert.equal(header.task, task);
    assert.ok(header.provenance.model);
    assert.equal(items.length, 50);
    assert.deepEqual(items.map((it) => it.id), [...Array(50).keys()]);
    for (const row of res.rows.filter((x: { task: string }) => x.task === task)) {
      const preds = items.map((it) => it.predictions[row.name]);
      if (task === 'lambada_openai') {
        assert.equal(row.acc, mean(preds.map((p) => (p.greedy ? 1 : 0))));
        assert.ok(Math.abs(row.perplexity - Math.exp(-mean(preds.map((p) => p.ll)))) < 1e-9 * row.perplexity);
        assert.ok(row.perplexity_stderr > 0);
      } else {
        assert.equal(row.acc, mean(items.map((it, i) => (preds[i].pred === it.gold ? 1 : 0))));
        assert.equal(row.acc_norm, mean(items.map((it, i) => (preds[i].pred_norm === it.gold ? 1 : 0))));
      }
    }
    const first = items[0];
    assert.equal(first.context_tokens.length > 0, true);
    assert.equal(first.continuation_tokens.length, first.continuations.length);
    assert.deepEqual(first.choices.map((c: { ll: number }) => c.ll), task === 'lambada_openai' ? [first.predictions.baseline.ll] : first.predictions.baseline.lls);
  }
  const arc = lines(join(out, 'details', 'arc_easy.jsonl'))[1];
  assert.equal(arc.context, 'Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:');
});

test('evaluate resumes after a kill and gives the same numbers as an uninterrupted run', needs, () => {
  const args = ['--model', modelDir!, '--task-dir', sharedPath('data')!, '--tasks', 'arc_easy', '--limit', '24', '--batch-tokens', '256', '--interventions', 'delete'];
  const whole = join(scratch, 'whole'), killed = join(scratch, 'killed');
  assert.equal(evaluate([...args, '--out', whole]).status, 0);
  const k = evaluate([...args, '--out', killed], { LAYERLAB_TEST_KILL_AFTER_UNITS: '2' });
  assert.equal(k.signal, 'SIGKILL');
  assert.ok(!existsSync(join(killed, 'evaluate.json')));
  const r = evaluate([...args, '--out', killed]);
  assert.equal(r.status, 0, r.stderr);
  const strip = (p: string) => {
    const j = readJson(p);
    delete j.provenance.created;
    return j;
  };
  assert.deepEqual(strip(join(killed, 'evaluate.json')).rows, strip(join(whole, 'evaluate.json')).rows);
});

test('missing or malformed task data: one line naming the file and the expected format', needs, () => {
  const dir = join(scratch, 'tasks');
  mkdirSync(join(dir, 'arc_easy'), { recursive: true });
  const r = evaluate(['--model', modelDir!, '--task-dir', dir, '--tasks', 'hellaswag', '--out', join(scratch, 'x')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^layerlab: .*tasks: no data for task hellaswag: expected hellaswag\/hellaswag_val\.jsonl or .*format: JSONL.*"ctx_a"/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  writeTemp(join(dir, 'arc_easy'), 'arc_easy.jsonl', '{"query": "Question: q", "choices": ["a", "b"], "gold": 1}\n{"question": 3}\n');
  const bad = evaluate(['--model', modelDir!, '--task-dir', dir, '--tasks', 'arc_easy', '--out', join(scratch, 'y')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /arc_easy\.jsonl: line 2: field "question" must be a string; expected JSONL/);
  const none = evaluate(['--model', modelDir!, '--tasks', 'arc_easy', '--out', join(scratch, 'z')], { LAYERLAB_TASK_DIR: '' });
  assert.match(none.stderr, /--task-dir DIR is required/);
  const unknown = evaluate(['--model', modelDir!, '--task-dir', dir, '--tasks', 'piqa', '--out', join(scratch, 'w')]);
  assert.match(unknown.stderr, /--tasks: unknown task 'piqa'/);
});
