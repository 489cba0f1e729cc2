/**
 * Errors about a missing model, corpus or tokenizer end with the command that fixes them, and that
 * command is real: run as suggested, it works.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED } from '../../src/load/bundled.js';
import { repoRoot } from '../helpers/shared.js';

const bin = join(repoRoot, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).bin.layerlab);
const tmp = mkdtempSync(join(tmpdir(), 'layerlab-fix-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function layerlab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1' } });
  return { code: r.status, stderr: r.stderr.trim() };
}

/** The one-line error, and the command in backticks it ends with. */
function fixCommand(stderr: string): string {
  assert.equal(stderr.split('\n').length, 1, stderr);
  const m = /`([^`]+)`$/.exec(stderr);
  assert.ok(m, `error does not end with a command: ${stderr}`);
  return m[1]!;
}

test('missing model folder / not a model / no weights: the error ends with a command that gets a model', () => {
  const noWeights = join(tmp, 'no-weights');
  mkdirSync(noWeights);
  copyFileSync(join(BUNDLED.modelDir, 'config.json'), join(noWeights, 'config.json'));
  for (const model of [join(tmp, 'nope'), 'not a hub id', tmp, noWeights]) {
    const r = layerlab('inspect', '--model', model);
    assert.equal(r.code, 2);
    assert.equal(fixCommand(r.stderr), 'layerlab paper --out runs/demo', r.stderr);
    assert.match(r.stderr, /`layerlab inspect --model openai-community\/gpt2`/);
  }
});

test('missing corpus: the error ends with a --data flag naming the bundled corpus, which works', () => {
  const r = layerlab('sweep', '--model', BUNDLED.modelDir, '--data', join(tmp, 'missing.jsonl'), '--out', join(tmp, 's'));
  assert.equal(r.code, 2);
  const fix = fixCommand(r.stderr);
  assert.equal(fix, `--data ${BUNDLED.corpus}`);
  const ok = layerlab('sweep', '--model', BUNDLED.modelDir, ...fix.split(' '), '--max-tokens', '200', '--interventions', 'delete', '--out', join(tmp, 's'));
  assert.equal(ok.code, 0, ok.stderr);
});

test('missing tokenizer: the error ends with the command that downloads model and tokenizer together', () => {
  const dir = join(tmp, 'no-tokenizer');
  mkdirSync(dir);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(BUNDLED.modelDir, f), join(dir, f));
  const r = layerlab('sweep', '--model', dir, '--data', BUNDLED.corpus, '--max-tokens', '100', '--out', join(tmp, 't'));
  assert.equal(r.code, 2);
  assert.equal(fixCommand(r.stderr), 'layerlab inspect --model ORG/NAME');
  assert.match(r.stderr, /no tokenizer\.json/);
});
