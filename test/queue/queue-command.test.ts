import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { JOBS_QUEUE, QUEUE_PREFIX, RUNS_KEY, WORKERS_KEY, jobId, type RunRecord, type WorkerHeartbeat } from '../../src/queue/names.js';
import { parseQueueUrl } from '../../src/queue/redis-url.js';
import { repoRoot } from '../helpers/shared.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const bin = join(repoRoot, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).bin.layerlab);
const PASSWORD = 'queue-admin-pw';
const RUN_A = '0123456789abcdef';
const RUN_B = 'fedcba9876543210'; // jobs without a record (a coordinator that died before writing it)

function layerlab(args: string[], env: Record<string, string | undefined> = {}) {
  const e = { ...process.env, ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: e as NodeJS.ProcessEnv });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let server: RedisServer;
let redis: Redis;
let queue: Queue;
let worker: Worker;
const TOKEN = 'test-worker-token';
let held: Job;

before(async () => {
  server = await startRedis({ password: PASSWORD });
  const connection = parseQueueUrl(server.url).connection;
  redis = new Redis(connection);
  queue = new Queue(JOBS_QUEUE, { connection, prefix: QUEUE_PREFIX });
  // Run A: six jobs in add order; a worker then takes the first three: done, failed, held (active).
  for (let i = 0; i < 5; i++) await queue.add('job', { i }, { jobId: jobId(RUN_A, `shard-${i}`) });
  await queue.add('job', { i: 5 }, { jobId: jobId(RUN_A, 'shard-5'), delay: 3_600_000 }); // delayed counts as waiting
  await queue.add('job', {}, { jobId: jobId(RUN_B, 'shard-0') });
  await queue.add('job', {}, { jobId: 'foreign' });
  const record: RunRecord = { run_id: RUN_A, command: 'sweep', model: 'gpt2', model_digest: 'ab'.repeat(32), created_at: '2026-11-30T12:00:00.000Z',
    jobs: 6, coordinator: { host: 'coord', pid: 42 } };
  await redis.hset(RUNS_KEY, RUN_A, JSON.stringify(record));
  const now = Date.now();
  const hb = (id: string, seenMsAgo: number): WorkerHeartbeat => ({ worker_id: id, host: id.split(':')[0], pid: Number(id.split(':')[1]),
    started_at: new Date(now - 600_000).toISOString(), seen_at: new Date(now - seenMsAgo).toISOString(), concurrency: 2, threads: 4,
    models_loaded: ['gpt2'], current_job: jobId(RUN_A, 'shard-2') });
  await redis.hset(WORKERS_KEY, 'gpu1:100', JSON.stringify(hb('gpu1:100', 2_000)), 'gpu2:200', JSON.stringify(hb('gpu2:200', 120_000)));

  worker = new Worker(JOBS_QUEUE, null, { connection, prefix: QUEUE_PREFIX, lockDuration: 600_000 });
  const next = async () => (await worker.getNextJob(TOKEN)) as Job;
  const j0 = await next();
  assert.equal(j0.id, jobId(RUN_A, 'shard-0'));
  await j0.moveToCompleted({ ok: true }, TOKEN, false);
  const j1 = await next();
  await j1.moveToFailed(new Error('NaN in block 3'), TOKEN, false);
  held = await next();
  assert.equal(held.id, jobId(RUN_A, 'shard-2'));
});

after(async () => {
  await worker?.close();
  await queue?.close();
  redis?.disconnect();
  await server?.stop();
});

test('queue status: runs with their jobs by state, live workers; table and JSON; LAYERLAB_QUEUE works', () => {
  const r = layerlab(['queue', 'status'], { LAYERLAB_QUEUE: server.url });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(PASSWORD));
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], `queue redis://:***@127.0.0.1:${server.port}`);
  assert.match(lines[1], /^run\s+command\s+model\s+jobs\s+waiting\s+active\s+done\s+failed\s+created$/);
  // Run B has no record, so no created_at: it sorts first.
  assert.match(r.stdout, new RegExp(`^${RUN_B}\\s+\\?\\s+\\(no record\\)\\s+1\\s+1\\s+0\\s+0\\s+0$`, 'm'));
  assert.match(r.stdout, new RegExp(`^${RUN_A}\\s+sweep\\s+gpt2\\s+6/6\\s+3\\s+1\\s+1\\s+1\\s+2026-11-30T12:00:00Z$`, 'm'));
  assert.match(r.stdout, /^workers: 1 live \(1 silent for 30 s or more, not counted\)$/m);
  assert.match(r.stdout, new RegExp(`^gpu1:100\\s+2\\s+4\\s+1\\s+${RUN_A}\\.shard-2\\s+\\ds ago$`, 'm'));
  assert.ok(!r.stdout.includes('gpu2:200'));
  assert.match(r.stdout, /^1 other jobs in the queue/m);

  const j = layerlab(['queue', 'status', '--queue', server.url, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const s = JSON.parse(j.stdout);
  assert.equal(s.queue, `redis://:***@127.0.0.1:${server.port}`);
  assert.deepEqual(s.runs.map((x: { run_id: string }) => x.run_id), [RUN_B, RUN_A]);
  assert.deepEqual(s.runs[1].counts, { waiting: 3, active: 1, completed: 1, failed: 1 });
  assert.equal(s.runs[1].record.coordinator.pid, 42);
  assert.equal(s.runs[0].record, null);
  assert.deepEqual(s.workers.map((w: { worker_id: string; live: boolean }) => [w.worker_id, w.live]), [['gpu1:100', true], ['gpu2:200', false]]);
  assert.equal(s.other_jobs, 1);
});

test('queue clean: refuses a bad or unknown run id (exit 2); keeps a job a worker holds (exit 1), then removes the rest', async () => {
  const bad = layerlab(['queue', 'clean', '--queue', server.url, '--run', 'xyz']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^layerlab: --run "xyz": not a run id/);
  const unknown = layerlab(['queue', 'clean', '--queue', server.url, '--run', 'cccccccccccccccc']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, `layerlab: --run cccccccccccccccc: no such run in the queue at redis://:***@127.0.0.1:${server.port}\n`);

  const first = layerlab(['queue', 'clean', '--queue', server.url, '--run', RUN_A]);
  assert.equal(first.code, 1, first.stderr);
  assert.equal(first.stdout, `run ${RUN_A}: removed 5 jobs (1 done, 1 failed, 3 waiting)\n`);
  assert.match(first.stderr, /1 active job is still held by a worker/);
  const left = await queue.getRanges(['waiting', 'delayed', 'active', 'completed', 'failed'], 0, -1);
  assert.deepEqual(left.filter((id) => id.startsWith(RUN_A)), [jobId(RUN_A, 'shard-2')]);
  assert.equal(await redis.hexists(RUNS_KEY, RUN_A), 1);

  await held.moveToCompleted({ ok: true }, TOKEN, false); // the worker finishes
  const second = layerlab(['queue', 'clean', '--queue', server.url, '--run', RUN_A]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, `run ${RUN_A}: removed 1 job (1 done) and its record\n`);
  assert.equal(await redis.hexists(RUNS_KEY, RUN_A), 0);

  const orphan = layerlab(['queue', 'clean', '--queue', server.url, '--run', RUN_B]);
  assert.equal(orphan.code, 0, orphan.stderr);
  assert.equal(orphan.stdout, `run ${RUN_B}: removed 1 job (1 waiting)\n`);
  assert.deepEqual(await queue.getRanges(['waiting', 'delayed', 'active', 'completed', 'failed'], 0, -1), ['foreign']); // not a run's: left alone
});

test('queue commands: no URL, a wrong password and nothing listening are one line each, exit 2, no password', () => {
  const none = layerlab(['queue', 'status'], { LAYERLAB_QUEUE: undefined });
  assert.equal(none.code, 2);
  assert.equal(none.stderr, 'layerlab: --queue URL is required (or set LAYERLAB_QUEUE)\n');
  const wrong = layerlab(['queue', 'status', '--queue', `redis://:wrong-${PASSWORD}@127.0.0.1:${server.port}`]);
  assert.equal(wrong.code, 2);
  assert.equal(wrong.stderr.split('\n').length, 2, wrong.stderr);
  assert.match(wrong.stderr, /^layerlab: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the password/);
  assert.ok(!wrong.stderr.includes(PASSWORD) && !wrong.stdout.includes(PASSWORD));
  const bad = layerlab(['queue', 'clean', '--queue', `redis://:${PASSWORD}@127.0.0.1:99999`, '--run', RUN_A]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^layerlab: --queue redis:\/\/\*\*\*@127\.0\.0\.1:99999: /);
  assert.ok(!bad.stderr.includes(PASSWORD));
});
