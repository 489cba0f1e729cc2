import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { canonicalJson, jobId, runIdFromKey, runIdOfJob } from '../../src/queue/names.js';

test('canonicalJson sorts keys at every level and keeps array order', () => {
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }], e: undefined }), '{"a":[2,{"c":4,"d":3}],"b":1}');
});

test('runIdFromKey: 16 hex digits of sha256 of the canonical text; key order does not matter', () => {
  // Hand-written canonical text hashed independently of the code under test.
  const expected = createHash('sha256').update('{"data":"abc","model":"m","opts":{"seq":128,"shard":4}}').digest('hex').slice(0, 16);
  assert.equal(runIdFromKey({ model: 'm', opts: { shard: 4, seq: 128 }, data: 'abc' }), expected);
  assert.equal(runIdFromKey({ data: 'abc', opts: { seq: 128, shard: 4 }, model: 'm' }), expected);
  assert.notEqual(runIdFromKey({ model: 'm', opts: { shard: 5, seq: 128 }, data: 'abc' }), expected);
  assert.match(expected, /^[0-9a-f]{16}$/);
});

test('jobId joins run id and job name with a dot, refuses ":", and runIdOfJob reads it back', () => {
  assert.equal(jobId('0123456789abcdef', 'shard-3.plans-1'), '0123456789abcdef.shard-3.plans-1');
  assert.equal(runIdOfJob('0123456789abcdef.shard-3.plans-1'), '0123456789abcdef');
  assert.equal(runIdOfJob('nodot'), undefined);
  assert.equal(runIdOfJob(undefined), undefined);
  assert.throws(() => jobId('0123456789abcdef', 'a:b'), /':'/);
});
