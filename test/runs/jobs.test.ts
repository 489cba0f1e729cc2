import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWindows } from '../../src/data/windows.js';
import { decodeJob, encodeJob, packWindows, unpackWindows, type StreamJobPayload, type SweepJobPayload } from '../../src/runs/jobs.js';
import { decodeState, encodeState } from '../../src/results/state-codec.js';
import { charTokenizer, syntheticCorpus } from '../stages/helpers.js';

const win = makeWindows(syntheticCorpus(12, 40).docs, charTokenizer(64), { bos: 1, seqLen: 32 });

test('job payloads round-trip exactly, are compact (4 bytes a token) and carry no paths', () => {
  const sweep: SweepJobPayload = {
    kind: 'sweep', shard: 2, group: 1, plans: [[0, 2], [1, 0, 2]], windows: packWindows(win.windows, win.docIndex),
    options: { maxBatchTokens: 4096, prefixCacheBytes: 2 ** 29 },
  };
  const stages: StreamJobPayload = {
    kind: 'stages', shard: 0, analyses: ['logit-lens', 'cka'], batchTokens: 512, windows: packWindows(win.windows, win.docIndex),
    options: { repeatDocs: 3, cka: { batchSize: 8 } },
  };
  for (const p of [sweep, stages]) {
    const bytes = encodeJob(p);
    assert.deepEqual(decodeJob(bytes), p);
    const tokens = win.windows.reduce((n, w) => n + w.length, 0);
    assert.ok(bytes.byteLength < 4 * tokens + 8 * win.windows.length + 1024, `${bytes.byteLength} bytes for ${tokens} tokens`);
    const json = Buffer.from(bytes).toString('latin1');
    assert.doesNotMatch(json, new RegExp(process.cwd().replace(/[/\\]/g, '.')), 'no absolute paths');
    assert.doesNotMatch(json, /"\/(tmp|home|work|Users)\//);
  }
  const back = unpackWindows(decodeJob<SweepJobPayload>(encodeJob(sweep)).windows);
  assert.deepEqual(back.windows, win.windows);
  assert.deepEqual(back.docIndex, win.docIndex);
});

test('state codec: typed arrays stay binary and exact, NaN and infinities survive, corrupt bytes are refused', () => {
  const v = { a: new Float64Array([1 / 3, -0, NaN, Infinity]), b: [new Float32Array([1.5, 2.25]), new Int32Array([7, -8])], c: { n: NaN, s: 'x' }, u: new Uint8Array([1, 2, 3]) };
  const bytes = encodeState(v);
  const back = decodeState<typeof v>(bytes);
  assert.ok(back.a instanceof Float64Array && back.b[0] instanceof Float32Array && back.b[1] instanceof Int32Array && back.u instanceof Uint8Array);
  assert.deepEqual(Array.from(back.a), Array.from(v.a));
  assert.ok(Object.is(back.a[1], -0));
  assert.deepEqual(Array.from(back.b[0]), [1.5, 2.25]);
  assert.ok(Number.isNaN(back.c.n));
  assert.throws(() => decodeState(bytes.subarray(0, 6)), /magic|truncated/);
  assert.throws(() => decodeState(new Uint8Array(16)), /magic/);
});
