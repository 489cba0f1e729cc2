import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedSnapshot, readRef, repoCacheDir, writeRef } from '../../src/load/hub/cache.js';
import { resolveModel } from '../../src/load/hub/resolve.js';
import { hubCacheRoot } from '../../src/load/hub/settings.js';
import { parseHubSpec } from '../../src/load/hub/spec.js';
import { LayerlabError } from '../../src/util/errors.js';

test('Hub ids: ORG/NAME with an optional @revision', () => {
  assert.deepEqual(parseHubSpec('openai-community/gpt2'), { repoId: 'openai-community/gpt2', revision: 'main' });
  assert.deepEqual(parseHubSpec('EleutherAI/pythia-70m@step1000'), { repoId: 'EleutherAI/pythia-70m', revision: 'step1000' });
  assert.deepEqual(parseHubSpec('org/m.v1_2@refs/pr/3'), { repoId: 'org/m.v1_2', revision: 'refs/pr/3' });
  assert.deepEqual(parseHubSpec('gpt2-medium@main'), { repoId: 'gpt2-medium', revision: 'main' });
  for (const bad of ['./models/x', '/abs/path', 'a/b/c', 'org/-x', 'org/x.', 'org/a--b', 'org/a..b', 'org/x@', 'org/x@../../etc', 'org/x@a/../b', 'org/x y']) {
    assert.equal(parseHubSpec(bad), undefined, bad);
  }
});

test('cache root follows HF_HUB_CACHE, then HF_HOME', () => {
  const saved = { c: process.env.HF_HUB_CACHE, h: process.env.HF_HOME };
  try {
    process.env.HF_HUB_CACHE = '/x/cache';
    assert.equal(hubCacheRoot(), '/x/cache');
    delete process.env.HF_HUB_CACHE;
    process.env.HF_HOME = '/y/hf';
    assert.equal(hubCacheRoot(), '/y/hf/hub');
  } finally {
    for (const [k, v] of [['HF_HUB_CACHE', saved.c], ['HF_HOME', saved.h]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  assert.equal(repoCacheDir('/r', 'org/name'), '/r/models--org--name');
});

test('a snapshot counts as cached only with config.json and all weights', () => {
  const repoDir = mkdtempSync(join(tmpdir(), 'layerlab-cache-'));
  try {
    const commit = 'a'.repeat(40);
    assert.equal(readRef(repoDir, 'main'), undefined);
    writeRef(repoDir, 'main', commit);
    assert.equal(readRef(repoDir, 'main'), commit);
    assert.equal(readRef(repoDir, 'b'.repeat(40)), 'b'.repeat(40));
    const snap = join(repoDir, 'snapshots', commit);
    mkdirSync(snap, { recursive: true });
    writeFileSync(join(snap, 'config.json'), '{}');
    assert.equal(cachedSnapshot(repoDir, 'main'), undefined);
    writeFileSync(join(snap, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 's1.safetensors', b: 's2.safetensors' } }));
    writeFileSync(join(snap, 's1.safetensors'), 'x');
    symlinkSync('../../blobs/gone', join(snap, 's2.safetensors')); // dangling: blob deleted
    assert.equal(cachedSnapshot(repoDir, 'main'), undefined);
    rmSync(join(snap, 's2.safetensors'));
    writeFileSync(join(snap, 's2.safetensors'), 'x');
    assert.deepEqual(cachedSnapshot(repoDir, 'main'), { commit, dir: snap });
  } finally {
    rmSync(repoDir, { recursive: true, force: true });
  }
});

test('a local folder is returned as is; anything else that is not a Hub id is an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-local-'));
  try {
    assert.deepEqual(await resolveModel(dir), { dir });
    writeFileSync(join(dir, 'f'), '');
    await assert.rejects(resolveModel(join(dir, 'f')), /expected a model folder/);
    await assert.rejects(resolveModel(join(dir, 'nope')), (e: unknown) => {
      assert.ok(e instanceof LayerlabError);
      assert.match(e.message, /no such folder, and '.*nope' is not a Hugging Face Hub id \(ORG\/NAME/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
