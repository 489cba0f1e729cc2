/*
 * Issue 9, point 7: every user mistake gets a one-line error naming the flag or file and exit status 2,
 * never a stack trace, and creates nothing. One test per class of mistake.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../data/helpers/temp.js';
import { isOneLineError, snapshotTree, tinyCorpus, writeTinyModel } from './helpers.js';
import { runInProcess } from './in-process.js';

const root = tempDir('layerlab-rel-mistakes-');
const model = writeTinyModel(join(root, 'model'));
const data = join(root, 'data.txt');
writeFileSync(data, tinyCorpus(5));
const ids = join(root, 'ids.json');
writeFileSync(ids, '[[95, 1, 3, 5]]');
const aFile = join(root, 'a-file.txt');
writeFileSync(aFile, 'x');
const aDir = join(root, 'a-dir');
mkdirSync(aDir);

const fwd = (...extra: string[]) => ['forward', '--model', model, '--input-ids', ids, ...extra];
const swp = (...extra: string[]) => ['sweep', '--model', model, '--data', data, ...extra];
const stg = (...extra: string[]) => ['stages', '--model', model, '--data', data, '--out', join(root, 'st'), ...extra];
const gen = (...extra: string[]) => ['generate', '--model', model, ...extra];

async function expectMistakes(cases: Array<[string[], RegExp]>): Promise<void> {
  const before = snapshotTree(root);
  for (const [args, re] of cases) {
    const r = await runInProcess(args);
    assert.equal(r.crash, undefined, `${args.join(' ')}: crashed: ${(r.crash as Error)?.stack}`);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    assert.ok(isOneLineError(r.stderr), `${args.join(' ')}: not one line: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
  assert.deepEqual(snapshotTree(root), before, 'a refused command creates or changes nothing');
}

test('--out of the wrong kind: a file for a folder, a folder for a file, /dev/null, a missing parent', async () => {
  await expectMistakes([
    [swp('--out', aFile), /--out .*a-file\.txt is a file; give a folder path/],
    [stg().slice(0, -2).concat(['--out', aFile]), /is a file; give a folder path/],
    [fwd('--out', aDir), /--out .*a-dir is a folder; give a file path/],
    [fwd('--out', '/dev/null'), /--out \/dev\/null is not a regular file/],
    [swp('--out', '/dev/null'), /--out \/dev\/null is not a folder/],
    [['report', aDir, '--out', '/dev/null'], /--out \/dev\/null is not a regular file/],
    [fwd('--out', join(root, 'no', 'such', 'x.safetensors')), /--out .*x\.safetensors: folder .*no\/such does not exist/],
    [['report', aDir, '--out', join(root, 'missing', 'r.html')], /folder .*missing does not exist/],
    [fwd('--out', join(aFile, 'x.safetensors')), /folder .*a-file\.txt does not exist|is not a folder/],
    [swp('--out', join(aFile, 'sub', 'run')), /a-file\.txt is not a folder/],
    [['paper', '--model', model, '--data', data, '--out', join('/dev/null', 'run')], /\/dev\/null is not a folder/],
  ]);
  assert.equal(existsSync('/dev/null-figures'), false, 'nothing is created next to /dev/null');
});

test('an unwritable parent is a one-line error', { skip: process.getuid?.() === 0 ? 'running as root: permissions do not apply' : undefined }, async () => {
  const ro = join(root, 'read-only');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  try {
    await expectMistakes([
      [fwd('--out', join(ro, 'x.safetensors')), /not writable/],
      [swp('--out', join(ro, 'run')), /not writable/],
    ]);
  } finally {
    chmodSync(ro, 0o755);
  }
});

test('numbers are plain decimal integers: no hex, exponent, fraction, sign or empty text', async () => {
  const cases: Array<[string[], RegExp]> = [];
  for (const bad of ['0x10', '1e3', '10.5', '-5', '', ' ', '+3', '0', 'Infinity', '9007199254740993'])
    cases.push([swp('--max-tokens', bad, '--out', join(root, 'never')), /--max-tokens must be a positive integer written in decimal digits/]);
  cases.push([gen('--prompt', 'the dog', '--max-new-tokens', '1e1'), /--max-new-tokens must be a positive integer/]);
  cases.push([swp('--batch-mb', '0x400', '--out', join(root, 'never')), /--batch-mb must be a non-negative integer/]);
  cases.push([stg('--repeat-blocks', '3,0x5'), /--repeat-blocks must be a positive integer/]);
  cases.push([['report', aDir, '--scale', '1e0'], /--scale must be a decimal number/]);
  await expectMistakes(cases);
});

test('--plan: empty items, hex and exponent indices are refused; repeats are allowed', async () => {
  await expectMistakes([
    [fwd('--plan', '0,1,', '--out', join(root, 'never.st')), /--plan: item 3 of '0,1,' is empty/],
    [fwd('--plan', ',0', '--out', join(root, 'never.st')), /--plan: item 1 of ',0' is empty/],
    [fwd('--plan', '0,,1', '--out', join(root, 'never.st')), /item 2 .* is empty/],
    [fwd('--plan', '0x1', '--out', join(root, 'never.st')), /--plan must be a non-negative integer written in decimal digits, got '0x1'/],
    [fwd('--plan', '1e0', '--out', join(root, 'never.st')), /--plan must be .* got '1e0'/],
    [fwd('--plan', '0,-1', '--out', join(root, 'never.st')), /got '-1'/],
    [gen('--prompt', 'the dog', '--plan', '0,1,'), /--plan: item 3 .* is empty/],
    [swp('--interventions', 'plan:0,1,', '--out', join(root, 'never')), /--interventions: empty entry/],
    [swp('--interventions', 'plan:0,,1', '--out', join(root, 'never')), /--interventions: empty entry/],
    [swp('--interventions', 'repeat:0x2', '--out', join(root, 'never')), /'repeat:0x2' needs a block length in decimal digits/],
  ]);
  const out = join(root, 'plan-ok.safetensors');
  const ok = await runInProcess(fwd('--plan', '0,0,1', '--out', out));
  assert.equal(ok.code, 0, ok.stderr);
});

test('lists: empty --analyses, duplicates where they mean nothing, duplicate interventions', async () => {
  await expectMistakes([
    [stg('--analyses', ''), /--analyses is empty/],
    [stg('--analyses', 'cka,,neurons'), /--analyses: item 2 .* is empty/],
    [stg('--analyses', 'neurons,neurons'), /--analyses: 'neurons' is given twice/],
    [stg('--repeat-blocks', '3,3'), /--repeat-blocks: 3 is given twice/],
    [swp('--interventions', 'delete,delete', '--out', join(root, 'never')), /--interventions: 'delete' is given twice/],
    [swp('--interventions', 'delete,drop', '--out', join(root, 'never')), /'delete' is given twice/],
    [swp('--interventions', 'plan:0,1,plan:0,1', '--out', join(root, 'never')), /'plan:0,1' is given twice/],
    [swp('--interventions', '', '--out', join(root, 'never')), /--interventions: empty entry|no interventions/],
    [fwd('--hooks', 'blocks.0.hook_resid_post,blocks.0.hook_resid_post', '--out', join(root, 'never.st')), /--hooks: '.*' is given twice/],
    [fwd('--hooks', '', '--out', join(root, 'never.st')), /--hooks is empty/],
    [['report', aDir, aDir, '--labels', 'x,x'], /--labels: 'x' is given twice/],
  ]);
});

test('empty prompts and prompts that give no tokens are refused', async () => {
  await expectMistakes([
    [gen('--prompt', ''), /--prompt is empty/],
    [gen('--prompt', '  \n\t'), /--prompt is empty/],
  ]);
});

test("commander's own usage errors (unknown option, missing value) also exit 2 with one layerlab line", async () => {
  await expectMistakes([
    [['sweep', '--model', model], /required option '--data <file>' not specified/],
    [fwd('--out', join(root, 'x.st'), '--bogus'), /unknown option '--bogus'/],
    [['nonsense-command'], /unknown command 'nonsense-command'/],
    [fwd('--out'), /option '--out <file\.safetensors>' argument missing/],
  ]);
});
