/*
 * Issue 9, point 1: nothing outside the run folder is ever deleted, moved or overwritten. Paths read
 * from a run file, a shard index or a hub cache entry must resolve inside their own root (symlinks
 * included); --out is never, never contains and never sits inside one of the command's inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checkpoint } from '../../src/load/checkpoint.js';
import { blobPath, linkSnapshotFile } from '../../src/load/hub/cache.js';
import { ResumableRun } from '../../src/results/resumable-run.js';
import { RUN_FILE } from '../../src/results/run-files.js';
import { LayerlabError } from '../../src/util/errors.js';
import { tempDir } from '../data/helpers/temp.js';
import { fixturePath } from '../helpers/shared.js';
import { isOneLineError, snapshotTree, spawnCli, tinyCorpus, writeTinyModel } from './helpers.js';

const root = tempDir('layerlab-rel-paths-');
const model = writeTinyModel(join(root, 'model'));
const data = join(root, 'data.txt');
writeFileSync(data, tinyCorpus(6));

/** A finished run folder whose run file lists `files`, beside a sibling folder that must survive. */
function poisonedRun(name: string, files: string[]): { dir: string; victim: string } {
  const base = join(root, name);
  const dir = join(base, 'run');
  const victim = join(base, 'victim');
  mkdirSync(dir, { recursive: true });
  mkdirSync(victim, { recursive: true });
  writeFileSync(join(victim, 'precious.txt'), 'keep me');
  writeFileSync(join(dir, RUN_FILE), JSON.stringify({ key: '"another run"', finished: true, files }));
  return { dir, victim };
}

test('a run file listing ../victim stops the takeover with an error and deletes nothing', () => {
  const { dir, victim } = poisonedRun('dotdot', ['manifest.json', '../victim']);
  writeFileSync(join(dir, 'manifest.json'), '{}');
  const before = snapshotTree(join(root, 'dotdot'));
  assert.throws(() => ResumableRun.open(dir, { k: 1 }), (e: unknown) => e instanceof LayerlabError && /listed file '\.\.\/victim' resolves outside/.test(e.message) && e.message.includes(RUN_FILE));
  // not even the legitimate entry went: every entry is checked before anything is removed
  assert.deepEqual(snapshotTree(join(root, 'dotdot')), before);
  assert.equal(readFileSync(join(victim, 'precious.txt'), 'utf8'), 'keep me');
});

test('absolute paths and symlinks out of the folder in a run file are refused too', () => {
  const abs = poisonedRun('absolute', [join(root, 'absolute', 'victim')]);
  assert.throws(() => ResumableRun.open(abs.dir, { k: 1 }), /is not a relative path inside/);
  const sym = poisonedRun('symlink', ['out/precious.txt']);
  symlinkSync(sym.victim, join(sym.dir, 'out'));
  assert.throws(() => ResumableRun.open(sym.dir, { k: 1 }), /resolves outside .* \(through a symlink/);
  assert.ok(existsSync(join(sym.victim, 'precious.txt')));
});

test('the CLI reports a poisoned run file as one line with exit 2 and the sibling survives', () => {
  const { dir, victim } = poisonedRun('cli', ['../victim']);
  const r = spawnCli(['sweep', '--model', model, '--data', data, '--interventions', 'delete', '--out', dir]);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(isOneLineError(r.stderr), r.stderr);
  assert.match(r.stderr, /\.layerlab-run\.json: listed file '\.\.\/victim' resolves outside/);
  assert.ok(existsSync(join(victim, 'precious.txt')));
});

test('a malformed run file is a one-line error naming the file', () => {
  const dir = join(root, 'malformed');
  mkdirSync(dir);
  writeFileSync(join(dir, RUN_FILE), JSON.stringify({ key: 1, files: 'x' }));
  const r = spawnCli(['sweep', '--model', model, '--data', data, '--out', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\.layerlab-run\.json: not a valid \.layerlab-run\.json: key: /);
  writeFileSync(join(dir, RUN_FILE), '{not json');
  const r2 = spawnCli(['sweep', '--model', model, '--data', data, '--out', dir]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /\.layerlab-run\.json: is not valid JSON/);
  assert.ok(isOneLineError(r2.stderr), r2.stderr);
});

test('a shard index naming ../ paths or symlinks out of the model folder is refused', () => {
  const src = fixturePath('golden', 'llama_sharded');
  const outside = join(root, 'outside.safetensors');
  copyFileSync(join(src, 'model-00001-of-00002.safetensors'), outside);
  const mk = (name: string, edit: (index: { weight_map: Record<string, string> }) => void, link?: [string, string]) => {
    const dir = join(root, name);
    mkdirSync(dir);
    for (const f of ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) copyFileSync(join(src, f), join(dir, f));
    const index = JSON.parse(readFileSync(join(src, 'model.safetensors.index.json'), 'utf8'));
    edit(index);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    if (link) symlinkSync(link[1], join(dir, link[0]));
    return dir;
  };
  const first = (i: { weight_map: Record<string, string> }) => Object.keys(i.weight_map)[0];
  const dotdot = mk('shard-dotdot', (i) => void (i.weight_map[first(i)] = '../outside.safetensors'));
  assert.throws(() => Checkpoint.open(dotdot), /model\.safetensors\.index\.json: shard '\.\.\/outside\.safetensors' resolves outside/);
  const linked = mk('shard-link', (i) => void (i.weight_map[first(i)] = 'evil.safetensors'), ['evil.safetensors', outside]);
  assert.throws(() => Checkpoint.open(linked), /shard 'evil\.safetensors' resolves outside .* \(through a symlink/);
  // the untouched index still loads: the check rejects only escapes
  Checkpoint.open(mk('shard-ok', () => {})).close();
});

test('hub cache entries: an ETag or file name that would leave the cache entry is refused', () => {
  const repo = join(root, 'hub', 'models--org--name');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  assert.throws(() => blobPath(repo, '../../../etc/passwd'), /blob name \(ETag\) '\.\.\/\.\.\/\.\.\/etc\/passwd' resolves outside/);
  writeFileSync(join(repo, 'blobs', 'abc'), 'x');
  const commit = 'a'.repeat(40);
  assert.throws(() => linkSnapshotFile(repo, commit, '../../../victim.txt', 'abc'), /file '\.\.\/\.\.\/\.\.\/victim\.txt' resolves outside/);
  const p = linkSnapshotFile(repo, commit, 'config.json', 'abc');
  assert.equal(readFileSync(p, 'utf8'), 'x');
});

test('--out never is, contains or sits inside an input (real paths, symlinks resolved)', () => {
  const ids = join(root, 'ids.json');
  writeFileSync(ids, '[[95, 1, 3]]');
  const modelFile = join(model, 'model.safetensors');
  const linkToModel = join(root, 'link-to-model.safetensors');
  symlinkSync(modelFile, linkToModel);
  const dataDir = join(root, 'datadir');
  mkdirSync(dataDir);
  copyFileSync(data, join(dataDir, 'd.txt'));
  const before = snapshotTree(root, (p) => p.includes('out-'));
  const cases: Array<[string[], RegExp]> = [
    [['forward', '--model', model, '--input-ids', ids, '--out', modelFile], /--out .*model\.safetensors is inside the input folder .* would overwrite/],
    [['forward', '--model', model, '--input-ids', ids, '--out', linkToModel], /link-to-model\.safetensors is inside the input folder .*model and would overwrite/],
    [['forward', '--model', model, '--input-ids', ids, '--out', ids], /is the input file .*ids\.json/],
    [['forward', '--model', model, '--input-ids', ids, '--out', join(model, 'logits.safetensors')], /is inside the input folder/],
    [['forward', '--model', join(root, 'dotdot', 'run'), '--input-ids', ids, '--out', linkToModel], /link-to-model\.safetensors is a symlink \(to .*model\/model\.safetensors\)/],
    [['sweep', '--model', model, '--data', join(dataDir, 'd.txt'), '--out', dataDir], /contains the input file/],
    [['sweep', '--model', model, '--data', data, '--out', model], /is the input folder/],
    [['sweep', '--model', model, '--data', data, '--out', root], /contains the input/],
    [['stages', '--model', model, '--data', data, '--out', join(model, 'run')], /is inside the input folder/],
    [['paper', '--model', model, '--data', data, '--out', data], /is a file; give a folder path|is the input file/],
    [['report', join(root, 'dotdot', 'run'), '--out', join(root, 'dotdot', 'run', 'report.html')], /is inside the input folder/],
  ];
  for (const [args, re] of cases) {
    const r = spawnCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.ok(isOneLineError(r.stderr), r.stderr);
  }
  assert.deepEqual(snapshotTree(root, (p) => p.includes('out-')), before, 'no input changed');
});
