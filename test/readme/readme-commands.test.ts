/**
 * Every command of the README runs: the main job on the bundled model and corpus, the same on a Hub
 * model (served by the local fake hub), the test command (what CI calls), and the installed-package
 * commands (run by test/package/npm-pack.test.ts).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, copyFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED } from '../../src/load/bundled.js';
import { writeRandomGpt2 } from '../../src/model/random-checkpoint.js';
import { escapeHtml } from '../../src/report/safe-html.js';
import type { SweepResult } from '../../src/results/schema.js';
import { fakeCommit, withFakeHub } from '../helpers/fake-hub.js';
import { PACKAGE_COMMANDS, PAPER_BUNDLED, PAPER_HUB, TESTS, readmeCommands, run } from '../helpers/readme.js';
import { repoRoot } from '../helpers/shared.js';


const tmp = mkdtempSync(join(tmpdir(), 'layerlab-readme-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = (extra: NodeJS.ProcessEnv) => ({ ...process.env, LAYERLAB_NO_SETUP: '1', ...extra });

test('every command in the README is one that a test runs', () => {
  const cmds = readmeCommands();
  for (const c of [PAPER_BUNDLED, PAPER_HUB, TESTS]) assert.ok(cmds.includes(c), `README lacks '${c}'`);
  for (const c of cmds) assert.ok([PAPER_BUNDLED, PAPER_HUB, TESTS, ...PACKAGE_COMMANDS].includes(c), `README command '${c}' is run by no test`);
  // The README shows its picture of the report, and ships it.
  const md = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const img = /!\[[^\]]*\]\(([^)]+\.png)\)/.exec(md.split('\n## ')[0]!);
  assert.ok(img, 'README first screen has a PNG');
  assert.ok(readFileSync(join(repoRoot, img[1]!)).subarray(1, 4).toString() === 'PNG');
});

test(`README: '${TESTS}' is exactly what CI runs`, () => {
  const ci = readFileSync(join(repoRoot, '.ci', 'run'), 'utf8').trim().split('\n');
  assert.equal(ci[ci.length - 1], TESTS);
});

test(`README: '${PAPER_BUNDLED}' runs the bundled model and corpus and prints the report and three findings`, async () => {
  const out = join(tmp, 'paper');
  const r = await run('bash', PAPER_BUNDLED.split(' ').slice(1), { cwd: repoRoot, env: env({ LAYERLAB_PAPER_OUT: out }) });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 4, r.stdout);
  assert.equal(lines[0], `report: ${join(out, 'report.html')}`);
  assert.match(lines[1]!, /^- Deleting layer (\d+) of 6 hurts most: KL \d+\.\d+ nats\/token/);
  assert.match(lines[2]!, /^- Mean top-1 agreement with the original model: \d+\.\d% over 6 deletions, \d+\.\d% over 5 swaps/);
  assert.match(lines[3]!, /^- Proposed stages: stage 1 \(detokenization\) from layer 0, stage 2 /);
  // The finding agrees with the sweep's own numbers.
  const sweep = JSON.parse(readFileSync(join(out, 'sweep', 'metrics.json'), 'utf8')) as SweepResult;
  const dels = sweep.interventions.filter((x) => x.kind === 'delete');
  const worst = dels.reduce((a, b) => (b.kl_mean > a.kl_mean ? b : a));
  assert.equal(Number(/layer (\d+)/.exec(lines[1]!)![1]), worst.layer);
  assert.equal(sweep.data?.max_tokens, BUNDLED.maxTokens);
  // The report explains itself: guide, the same findings, and the paper's finding under every figure.
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(html.indexOf('How to read this report') < html.indexOf('<section class="figure"'));
  assert.ok(html.includes('href="https://arxiv.org/abs/2406.19384"'));
  for (const l of lines.slice(1)) assert.ok(html.includes(`<li>${escapeHtml(l.slice(2))}</li>`), l);
  const figures = html.match(/<section class="figure"/g)!.length;
  assert.ok(figures >= 7, `${figures} figures`);
  assert.equal(html.match(/<p class="paper-found">/g)!.length, figures);
});

test(`README: '${PAPER_HUB}' runs on a Hub model (local fake hub; output folder in a temp dir)`, async () => {
  // A GPT-2-shaped tiny model with the bundled byte-level BPE tokenizer, served as openai-community/gpt2.
  const src = join(tmp, 'gpt2-src');
  writeRandomGpt2(src, { nLayers: 4, dModel: 64, nHeads: 4, vocabSize: 768, nCtx: 256 }, { seed: 3 });
  const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
  writeFileSync(join(src, 'config.json'), JSON.stringify({ ...cfg, bos_token_id: 0, eos_token_id: 1 }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(BUNDLED.modelDir, f), join(src, f));
  const files = Object.fromEntries(readdirSync(src).map((f) => [f, readFileSync(join(src, f))]));
  await withFakeHub({ repos: { 'openai-community/gpt2': { commit: fakeCommit('gpt2'), files } } }, async (hub) => {
    const out = join(tmp, 'gpt2');
    const args = PAPER_HUB.split(' ').slice(1).map((a) => (a === 'runs/gpt2' ? out : a));
    const r = await run('bash', args, { cwd: repoRoot, env: env({}) });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(hub.requests.some((q) => q.path.startsWith('/openai-community/gpt2/resolve/') && q.path.endsWith('/model.safetensors')), JSON.stringify(hub.requests.map((q) => q.path)));
    assert.match(r.stdout, /^report: .*report\.html\n- Deleting layer \d+ of 4 hurts most/);
    const sweep = JSON.parse(readFileSync(join(out, 'sweep', 'metrics.json'), 'utf8')) as SweepResult;
    assert.equal(sweep.provenance.model, 'openai-community/gpt2');
    assert.equal(sweep.data?.max_tokens, 16384);
  });
});
