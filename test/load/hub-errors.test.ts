import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { resolveModel } from '../../src/load/hub/resolve.js';
import { LayerlabError } from '../../src/util/errors.js';
import { fakeCommit, withFakeHub, type FakeHub, type FakeRepo } from '../helpers/fake-hub.js';
import { fixturePath } from '../helpers/shared.js';

const fast = { retryDelayMs: 5, timeoutMs: 5000, onProgress: () => {} };

function tinyRepo(extra: Partial<FakeRepo> = {}): FakeRepo {
  return {
    commit: fakeCommit('tiny'),
    files: {
      'config.json': readFileSync(fixturePath('golden', 'gpt2_f16', 'config.json')),
      'model.safetensors': readFileSync(fixturePath('golden', 'gpt2_f16', 'model.safetensors')),
    },
    ...extra,
  };
}

const withHub = (repos: Record<string, FakeRepo>, fn: (hub: FakeHub, cache: string) => Promise<void>) => withFakeHub({ repos }, fn);

async function rejectsWith(p: Promise<unknown>, ...patterns: RegExp[]) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LayerlabError, String(e));
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

test('a cached snapshot is used without any request', async () => {
  await withHub({ 'org/tiny': tinyRepo() }, async (hub) => {
    const first = await resolveModel('org/tiny', fast);
    hub.requests.length = 0;
    const again = await resolveModel('org/tiny', fast);
    assert.deepEqual(again, first);
    const byHash = await resolveModel(`org/tiny@${first.commit}`, fast);
    assert.equal(byHash.dir, first.dir);
    assert.equal(hub.requests.length, 0);
  });
});

test('HF_HUB_OFFLINE=1 uses the cache, and without it explains what to do', async () => {
  await withHub({ 'org/tiny': tinyRepo() }, async (hub, cache) => {
    process.env.HF_HUB_OFFLINE = '1';
    await rejectsWith(
      resolveModel('org/tiny', fast),
      /org\/tiny@main is not in the local Hugging Face cache/,
      new RegExp(join(cache, 'models--org--tiny').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
      /HF_HUB_OFFLINE/,
      /--model/,
    );
    assert.equal(hub.requests.length, 0);
    delete process.env.HF_HUB_OFFLINE;
    const online = await resolveModel('org/tiny', fast);
    process.env.HF_HUB_OFFLINE = '1';
    hub.requests.length = 0;
    assert.equal((await resolveModel('org/tiny', fast)).dir, online.dir);
    // the option works like the variable
    delete process.env.HF_HUB_OFFLINE;
    await rejectsWith(resolveModel('org/other', { ...fast, offline: true }), /not in the local Hugging Face cache/, /offline/);
    assert.equal(hub.requests.length, 0);
  });
});

test('a gated repository without the right token asks for HF_TOKEN; with it, it downloads', async () => {
  await withHub({ 'org/gated': tinyRepo({ token: 'hf_good' }) }, async () => {
    await rejectsWith(resolveModel('org/gated', fast), /org\/gated@main is gated or private \(HTTP 401/, /set the HF_TOKEN environment variable/);
    process.env.HF_TOKEN = 'hf_wrong';
    await rejectsWith(resolveModel('org/gated', fast), /gated or private/, /token in HF_TOKEN .* does not give access/);
    process.env.HF_TOKEN = 'hf_good';
    const r = await resolveModel('org/gated', fast);
    assert.ok(existsSync(join(r.dir, 'model.safetensors')));
  });
});

test('an unknown repository or revision is a not-found error', async () => {
  await withHub({ 'org/tiny': tinyRepo() }, async (_hub, cache) => {
    await rejectsWith(resolveModel('org/missing', fast), /model org\/missing or its revision 'main' not found on http:\/\/127\.0\.0\.1:\d+/);
    await rejectsWith(resolveModel('org/tiny@nope', fast), /revision 'nope' not found in org\/tiny/);
    assert.equal(existsSync(join(cache, 'models--org--tiny', 'refs', 'nope')), false);
  });
});

test('an unreachable Hub says the model is not cached and how to use a local folder', async () => {
  // a port that was just free: nothing listens there, so the connection is refused
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await withHub({}, async (_hub, cache) => {
    process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
    await rejectsWith(
      resolveModel('org/tiny', fast),
      /org\/tiny@main is not in the local Hugging Face cache at/,
      new RegExp(`models--org--tiny`),
      /cannot be reached \(ECONNREFUSED; no network\?\)/,
      /point --model at a local folder/,
    );
    assert.ok(!existsSync(join(cache, 'models--org--tiny', 'snapshots')));
  });
});
