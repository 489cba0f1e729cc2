/**
 * What a worker accepts: job data and payloads are validated like any input (schema, sizes, names that
 * cannot be paths), models come only from --models (symlinks resolved) or the allow-listed Hub cache,
 * and the model digest depends on the model's bytes, not on where or when its files were copied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { packWindows, type SweepJobPayload } from '../../src/runs/jobs.js';
import { checkPayloadForModel, decodePayload, encodePayload, JobRejected, parseJobData, type QueueJobData } from '../../src/queue/job-codec.js';
import { modelDigest } from '../../src/queue/model-digest.js';
import { matchesPattern, ModelPool } from '../../src/queue/model-pool.js';
import { repoRoot } from '../helpers/shared.js';

const kjv = join(repoRoot, 'assets', 'kjv-tiny');
const payload: SweepJobPayload = {
  kind: 'sweep', shard: 2, group: 1, plans: [[0, 2, 1], [1, 2]],
  windows: packWindows([Int32Array.of(0, 5, 6, 7), Int32Array.of(0, 9)], [3, 4]),
  options: { maxBatchTokens: 256, prefixCacheBytes: 1 << 20 },
};
const data = (over: Partial<QueueJobData> = {}, p: unknown = payload): QueueJobData => ({
  format: 1, run_id: '0123456789abcdef', job: 'sweep-job-2-1', describe: 'shard 3', model: { folder: 'kjv-tiny' },
  model_digest: 'a'.repeat(64), dtype: 'f32', payload: encodePayload(p as SweepJobPayload), ...over,
});
const rejected = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof JobRejected && re.test((e as Error).message));

test('job data round-trips: the decoded payload equals the one sent, typed arrays included', () => {
  assert.deepEqual(decodePayload(parseJobData(JSON.parse(JSON.stringify(data())))), payload);
});

test('job data that is not ours is refused with the place of the problem', () => {
  rejected(() => parseJobData({ ...data(), extra: 1 }), /bad job data/);
  rejected(() => parseJobData(data({ run_id: 'x' })), /run_id/);
  rejected(() => parseJobData(data({ model: { folder: '../etc' } })), /model/);
  rejected(() => parseJobData(data({ model: { folder: 'a/b' } })), /model/);
  rejected(() => parseJobData(data({ model: { hub: 'org/name', revision: 'main/../../x' } })), /model/);
  rejected(() => parseJobData(data({ model: { hub: '/abs/path', revision: 'main' } })), /model/);
  rejected(() => parseJobData({ ...data(), payload: 'not base64!' }), /payload/);
  rejected(() => parseJobData({ ...data(), format: 2 }), /format/);
});

test('payloads that do not add up are refused before any work', () => {
  const bad = (windows: object, re: RegExp) => rejected(() => decodePayload(data({}, { ...payload, windows: { ...payload.windows, ...windows } })), re);
  bad({ lengths: Int32Array.of(4, 3) }, /add up/);
  bad({ lengths: Int32Array.of(5, 1), ids: Int32Array.of(0, 5, 6, 7, 1, 9) }, /BOS/);
  bad({ docs: Int32Array.of(4, 3) }, /in order/);
  bad({ ids: Int32Array.of(0, 5, -6, 7, 0, 9) }, /negative/);
  bad({ ids: [0, 5, 6, 7, 0, 9] }, /ids/);
  rejected(() => decodePayload(data({}, { ...payload, plans: [[70000]] })), /plans/);
  rejected(() => decodePayload(data({}, { ...payload, kind: 'stages', analyses: ['neurons'], batchTokens: 64, options: {}, group: undefined, plans: undefined })), /payload/);
  rejected(() => decodePayload(data({ payload: Buffer.from('LLS1garbage').toString('base64') })), /bad job payload/);
  rejected(() => checkPayloadForModel(payload, 8), /token id 9 outside the model's vocabulary of 8/);
  assert.doesNotThrow(() => checkPayloadForModel(payload, 10));
});

test('model digest: sha256 of config.json, safetensors headers and samples; the same for a copy made later, different for other bytes', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'layerlab-digest-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const copy = join(root, 'copy');
  cpSync(kjv, copy, { recursive: true });
  utimesSync(join(copy, 'model.safetensors'), new Date(2001, 1, 1), new Date(2001, 1, 1));
  const d = modelDigest(kjv);
  assert.match(d, /^[0-9a-f]{64}$/);
  assert.equal(modelDigest(copy), d);
  // Independent check of what is hashed for a model with a tiny safetensors file (the samples cover it all).
  const tiny = join(root, 'tiny');
  mkdirSync(tiny);
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const body = Buffer.from(Float32Array.of(1, 2).buffer);
  writeFileSync(join(tiny, 'model.safetensors'), Buffer.concat([len, header, body]));
  writeFileSync(join(tiny, 'config.json'), '{}');
  const h = createHash('sha256').update('config.json\0').update('{}').update('\0model.safetensors\0').update(len).update(header);
  for (let i = 0; i < 16; i++) h.update(body);
  assert.equal(modelDigest(tiny), h.digest('hex'));
  // A changed config or a changed weight byte (at a sample) changes the digest.
  const cfg = join(copy, 'config.json');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('"rms_norm_eps": 1e-05', '"rms_norm_eps": 1e-06'));
  assert.notEqual(modelDigest(copy), d);
  cpSync(join(kjv, 'config.json'), cfg);
  const st = readFileSync(join(copy, 'model.safetensors'));
  st[8 + Number(st.readBigUInt64LE(0))] ^= 1;
  writeFileSync(join(copy, 'model.safetensors'), st);
  assert.notEqual(modelDigest(copy), d);
});

test('model pool: folders only under --models (symlinks resolved), names only from the allow-list', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'layerlab-pool-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const models = join(root, 'models');
  mkdirSync(models);
  cpSync(kjv, join(models, 'kjv-tiny'), { recursive: true });
  cpSync(kjv, join(root, 'outside'), { recursive: true });
  symlinkSync(join(root, 'outside'), join(models, 'escape'));
  const pool = new ModelPool({ modelsDir: models, allow: ['kjv-*', 'escape', 'org/*'], capacity: 1 });
  const m = await pool.get({ folder: 'kjv-tiny' }, 'f32');
  assert.equal(m.digest, modelDigest(kjv));
  assert.equal(await pool.get({ folder: 'kjv-tiny' }, 'f32'), m, 'kept loaded');
  await assert.rejects(pool.get({ folder: 'escape' }, 'f32'), /resolves outside/);
  await assert.rejects(pool.get({ folder: 'missing' }, 'f32'), /not allowed/);
  await assert.rejects(pool.get({ folder: 'kjv-missing' }, 'f32'), /is not in/);
  await assert.rejects(new ModelPool({ allow: ['*'] }).get({ folder: 'kjv-tiny' }, 'f32'), /no --models folder/);
  assert.ok(matchesPattern('EleutherAI/pythia-70m', 'EleutherAI/*'));
  assert.ok(!matchesPattern('EleutherAI/pythia-70m', 'EleutherAI'));
  assert.ok(!matchesPattern('kjv.tiny', 'kjv-*'));
  assert.ok(matchesPattern('a.b', 'a.b') && !matchesPattern('axb', 'a.b'));
});
