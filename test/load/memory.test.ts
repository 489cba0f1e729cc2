import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir } from '../../src/model/model.js';
import { writeRandomGpt2 } from '../../src/model/random-checkpoint.js';
import { LayerlabError } from '../../src/util/errors.js';
import { repoRoot } from '../helpers/shared.js';

const root = mkdtempSync(join(tmpdir(), 'layerlab-mem-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a model larger than memory fails before reading any weights, with sizes in the message', () => {
  const dir = join(root, 'huge');
  // 2.4 TB of float32 described by a sparse file: no disk is used, and reading it would exhaust memory long
  // before the end, so getting the error at all shows the check runs before any weights are read.
  writeRandomGpt2(dir, { nLayers: 100, dModel: 12288, nHeads: 96, vocabSize: 50257, nCtx: 2048 }, { sparse: true });
  assert.throws(() => loadModelDir(dir), (e: unknown) => e instanceof LayerlabError && /needs \d+\.\d GiB as float32 but only \d+\.\d GiB of memory is available/.test(e.message) && e.message.includes(dir));
});

test('loading never holds two copies of the weights: peak RSS stays under 1.25 x weights + activations (+ Node itself)', () => {
  const dir = join(root, 'small');
  const { f32Bytes } = writeRandomGpt2(dir, { nLayers: 6, dModel: 512, nHeads: 8, vocabSize: 50257, nCtx: 1024 }, { seed: 3 });
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'memory-child.js'), dir, '1', '128'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  const activations = 4 * 128 * (6 * 4 * 512 + 14 * 512 + 50257);
  const nodeItself = 96 * 2 ** 20;
  assert.ok(m.peakRss <= 1.25 * f32Bytes + activations + nodeItself, `peak ${(m.peakRss / 2 ** 20).toFixed(0)} MiB for ${(f32Bytes / 2 ** 20).toFixed(0)} MiB of weights`);
});
