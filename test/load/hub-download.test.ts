import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveModel } from '../../src/load/hub/resolve.js';
import type { DownloadProgress } from '../../src/load/hub/settings.js';
import { LayerlabError } from '../../src/util/errors.js';
import { fakeCommit, withFakeHub, type FakeRepo } from '../helpers/fake-hub.js';
import { fixturePath } from '../helpers/shared.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const read = (...p: string[]) => readFileSync(fixturePath('golden', ...p));

/** config + weights of the small gpt2_f16 fixture, plus a tokenizer_config of our own. */
function gpt2Repo(label = 'gpt2'): FakeRepo {
  return {
    commit: fakeCommit(label),
    files: {
      'config.json': read('gpt2_f16', 'config.json'),
      'tokenizer_config.json': Buffer.from('{"bos_token":"<|endoftext|>"}'),
      'model.safetensors': read('gpt2_f16', 'model.safetensors'),
    },
  };
}

const withHub = withFakeHub;

const fast = { retryDelayMs: 5, timeoutMs: 5000, onProgress: () => {} };

test('download lays out the cache like huggingface_hub: blobs, snapshot symlinks, refs', async () => {
  const repo = gpt2Repo();
  await withHub({ repos: { 'org/tiny': repo } }, async (hub, cache) => {
    const events: DownloadProgress[] = [];
    const r = await resolveModel('org/tiny', { ...fast, onProgress: (p) => events.push({ ...p }) });
    const repoDir = join(cache, 'models--org--tiny');
    assert.deepEqual(r, { dir: join(repoDir, 'snapshots', repo.commit), modelId: 'org/tiny', revision: 'main', commit: repo.commit });
    assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), repo.commit);
    // LFS file: blob named by its sha256, snapshot entry a relative symlink
    const weights = join(r.dir, 'model.safetensors');
    assert.ok(lstatSync(weights).isSymbolicLink());
    assert.equal(readlinkSync(weights), join('..', '..', 'blobs', sha256(repo.files['model.safetensors'])));
    assert.deepEqual(readFileSync(weights), repo.files['model.safetensors']);
    // small file: blob named by its git blob sha1
    const gitSha = createHash('sha1').update(`blob ${repo.files['config.json'].length}\0`).update(repo.files['config.json']).digest('hex');
    assert.equal(readlinkSync(join(r.dir, 'config.json')), join('..', '..', 'blobs', gitSha));
    assert.deepEqual(readFileSync(join(r.dir, 'tokenizer_config.json')), repo.files['tokenizer_config.json']);
    // optional files the repo lacks are skipped, and nothing is left half-written
    assert.deepEqual(readdirSync(r.dir).sort(), ['config.json', 'model.safetensors', 'tokenizer_config.json']);
    assert.ok(readdirSync(join(repoDir, 'blobs')).every((f) => !f.endsWith('.incomplete')));
    // the weights came from the CDN path the 302 pointed to, files after config.json at the commit
    const gets = hub.requests.filter((q) => q.method === 'GET');
    assert.ok(gets.some((q) => q.path === `/cdn/${sha256(repo.files['model.safetensors'])}`));
    assert.ok(hub.requests.some((q) => q.path === `/org/tiny/resolve/${repo.commit}/model.safetensors`));
    // progress reached the full size of the weights
    const last = events.filter((e) => e.file === 'model.safetensors').at(-1)!;
    assert.equal(last.done, true);
    assert.equal(last.received, repo.files['model.safetensors'].length);
    assert.equal(last.total, repo.files['model.safetensors'].length);
  });
});

test('a revision, a tag and a commit hash each resolve to their snapshot', async () => {
  const repo = { ...gpt2Repo(), refs: { main: fakeCommit('gpt2'), v1: fakeCommit('gpt2') } };
  await withHub({ repos: { 'org/tiny': repo } }, async (_hub, cache) => {
    const tag = await resolveModel('org/tiny@v1', fast);
    assert.equal(tag.commit, repo.commit);
    assert.equal(tag.revision, 'v1');
    assert.equal(readFileSync(join(cache, 'models--org--tiny', 'refs', 'v1'), 'utf8'), repo.commit);
    const byHash = await resolveModel(`org/tiny@${repo.commit}`, fast);
    assert.equal(byHash.dir, tag.dir);
  });
});

test('an absolute redirect to another host gets the file but never the token', async () => {
  const repo = { ...gpt2Repo(), token: 'hf_secret' };
  await withHub({ repos: { 'org/gated': repo }, redirect: 'other-host' }, async (hub) => {
    process.env.HF_TOKEN = 'hf_secret';
    const r = await resolveModel('org/gated', fast);
    assert.deepEqual(readFileSync(join(r.dir, 'model.safetensors')), repo.files['model.safetensors']);
    const cdn = hub.requests.filter((q) => q.server === 'cdn');
    assert.equal(cdn.length, 1);
    assert.equal(cdn[0].authorization, undefined);
    assert.ok(hub.requests.filter((q) => q.server === 'hub').every((q) => q.authorization === 'Bearer hf_secret'));
  });
});

test('an absolute redirect to the same host keeps the token', async () => {
  const repo = { ...gpt2Repo(), token: 'hf_secret' };
  await withHub({ repos: { 'org/gated': repo }, redirect: 'absolute' }, async (hub) => {
    await resolveModel('org/gated', { ...fast, token: 'hf_secret' });
    const cdn = hub.requests.filter((q) => q.path.startsWith('/cdn/'));
    assert.equal(cdn.length, 1);
    assert.equal(cdn[0].authorization, 'Bearer hf_secret');
  });
});

test('a connection cut mid-file is resumed with a Range request within the same call', async () => {
  const repo = gpt2Repo();
  const size = repo.files['model.safetensors'].length;
  await withHub({ repos: { 'org/tiny': repo }, cut: { file: 'model.safetensors', afterBytes: 20_000, times: 2 } }, async (hub) => {
    const r = await resolveModel('org/tiny', fast);
    assert.deepEqual(readFileSync(join(r.dir, 'model.safetensors')), repo.files['model.safetensors']);
    const cdn = hub.requests.filter((q) => q.path.startsWith('/cdn/'));
    assert.deepEqual(cdn.map((q) => q.range), [undefined, 'bytes=20000-', 'bytes=40000-']);
    assert.ok(size > 40_000);
  });
});

test('a download cut more often than the retries allows fails, keeps .incomplete, and the next call resumes it', async () => {
  const repo = gpt2Repo();
  const sha = sha256(repo.files['model.safetensors']);
  await withHub({ repos: { 'org/tiny': repo }, cut: { file: 'model.safetensors', afterBytes: 10_000, times: 2 } }, async (hub, cache) => {
    await assert.rejects(resolveModel('org/tiny', { ...fast, retries: 1 }), (e: unknown) => {
      assert.ok(e instanceof LayerlabError);
      assert.match(e.message, /model\.safetensors.*failed after 2 tries.*run again to resume/);
      return true;
    });
    const partial = join(cache, 'models--org--tiny', 'blobs', `${sha}.incomplete`);
    assert.equal(readFileSync(partial).length, 20_000);
    assert.equal(existsSync(join(cache, 'models--org--tiny', 'refs', 'main')), false);
    hub.requests.length = 0;
    const r = await resolveModel('org/tiny', fast);
    assert.deepEqual(readFileSync(join(r.dir, 'model.safetensors')), repo.files['model.safetensors']);
    assert.equal(existsSync(partial), false);
    // files already in the snapshot were not fetched again
    assert.deepEqual(hub.requests.filter((q) => q.method === 'GET').map((q) => q.range), ['bytes=20000-']);
  });
});

test('a server that ignores Range sends the whole file again, and the partial one is overwritten', async () => {
  const repo = gpt2Repo();
  await withHub({ repos: { 'org/tiny': repo }, ignoreRange: true, cut: { file: 'model.safetensors', afterBytes: 5000, times: 1 } }, async (hub) => {
    const r = await resolveModel('org/tiny', fast);
    assert.deepEqual(readFileSync(join(r.dir, 'model.safetensors')), repo.files['model.safetensors']);
    assert.equal(hub.requests.filter((q) => q.path.startsWith('/cdn/')).length, 2);
  });
});

test('a blob whose sha256 does not match its ETag is rejected and discarded', async () => {
  const repo = gpt2Repo();
  const sha = sha256(repo.files['model.safetensors']);
  await withHub({ repos: { 'org/tiny': repo }, corrupt: ['model.safetensors'] }, async (_hub, cache) => {
    await assert.rejects(resolveModel('org/tiny', fast), (e: unknown) => {
      assert.ok(e instanceof LayerlabError);
      assert.match(e.message, new RegExp(`model\\.safetensors has sha256 [0-9a-f]{64}, but the Hub says ${sha}`));
      return true;
    });
    const blobs = readdirSync(join(cache, 'models--org--tiny', 'blobs'));
    assert.ok(!blobs.includes(sha) && !blobs.includes(`${sha}.incomplete`));
    assert.equal(existsSync(join(cache, 'models--org--tiny', 'snapshots', repo.commit, 'model.safetensors')), false);
  });
});

test('a partial file that does not match is not trusted: the resumed blob is verified too', async () => {
  const repo = gpt2Repo();
  const sha = sha256(repo.files['model.safetensors']);
  await withHub({ repos: { 'org/tiny': repo } }, async (_hub, cache) => {
    const blobs = join(cache, 'models--org--tiny', 'blobs');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(join(blobs, `${sha}.incomplete`), Buffer.alloc(1000, 7)); // garbage, not the real first bytes
    await assert.rejects(resolveModel('org/tiny', fast), /has sha256/);
    // discarded, so the next call starts clean and succeeds
    const r = await resolveModel('org/tiny', fast);
    assert.deepEqual(readFileSync(join(r.dir, 'model.safetensors')), repo.files['model.safetensors']);
  });
});

test('a sharded repository fetches the index and every shard it lists', async () => {
  const dir = fixturePath('golden', 'llama_sharded');
  const names = ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const repo: FakeRepo = { commit: fakeCommit('sharded'), files: Object.fromEntries(names.map((n) => [n, readFileSync(join(dir, n))])) };
  await withHub({ repos: { 'org/sharded': repo } }, async (hub) => {
    const r = await resolveModel('org/sharded', fast);
    for (const n of names) assert.deepEqual(readFileSync(join(r.dir, n)), repo.files[n], n);
    assert.equal(hub.requests.filter((q) => q.path.startsWith('/cdn/')).length, 2);
  });
});

test('a repository without safetensors weights is a clear error', async () => {
  const repo: FakeRepo = { commit: fakeCommit('bin'), files: { 'config.json': Buffer.from('{}'), 'pytorch_model.bin': Buffer.from('x') } };
  await withHub({ repos: { 'org/bin': repo } }, async () => {
    await assert.rejects(resolveModel('org/bin', fast), (e: unknown) => {
      assert.ok(e instanceof LayerlabError);
      assert.match(e.message, /no safetensors weights in org\/bin@main.*layerlab reads safetensors only/);
      return true;
    });
  });
});
