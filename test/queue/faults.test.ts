/**
 * Faults of a queue run, each on its own redis-server: a worker SIGKILLed mid-job (its job is re-queued
 * by BullMQ's stall check and the results are bit-identical), a coordinator SIGKILLed and started again
 * (it resumes; no job runs twice), a worker whose model differs (it refuses; the run fails with its
 * message), a wrong password or an unreachable Redis (one line, exit 2, no password shown), and Redis
 * restarted (AOF) or killed mid-run (the run continues, or stops with one line and resumes on re-run).
 * Workers pause at every progress step (LAYERLAB_QUEUE_TEST_PAUSE_MS) so kills land mid-job.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { repoRoot } from '../helpers/shared.js';
import { cli, comparable, modelsFolder, startCli, startedJobs, startWorker, stopWorkers, waitForStates, type Proc } from './helpers.js';

const kjv = join(repoRoot, 'assets', 'kjv-tiny');
const args = ['--data', join(repoRoot, 'assets', 'corpus.jsonl'), '--max-docs', '4', '--seq-len', '64', '--shard-docs', '1', '--interventions', 'delete,swap', '--batch-tokens', '256'];
const JOBS = 4;
const SLOW = { LAYERLAB_QUEUE_TEST_PAUSE_MS: '10' };
/** The one line a failed command prints about its error (progress lines aside), and no stack trace. */
function errorLine(output: string): string {
  assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
  const lines = output.split('\n').filter((l) => l.startsWith('layerlab: ') && !/^layerlab: (sweep: |took over)/.test(l));
  return lines.at(-1) ?? '';
}

describe('queue faults', () => {
  let root: string;
  let modelsDir: string;
  let model: string;
  let reference: unknown;
  const workers: Proc[] = [];
  const sweep = (out: string, url: string) => ['sweep', '--model', model, ...args, '--out', join(root, out), '--queue', url];
  const metrics = (out: string) => comparable(join(root, out, 'metrics.json'));
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'layerlab-queue-faults-'));
    modelsDir = modelsFolder(join(root, 'worker'), kjv, 'kjv-tiny');
    model = join(modelsFolder(join(root, 'coordinator'), kjv, 'kjv-tiny'), 'kjv-tiny');
    const r = await cli(['sweep', '--model', model, ...args, '--out', join(root, 'reference')]);
    assert.equal(r.code, 0, r.output);
    reference = metrics('reference');
  });
  after(async () => {
    await stopWorkers(workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null));
    rmSync(root, { recursive: true, force: true });
  });
  /** Workers first (a worker's graceful stop talks to its Redis), then the server. */
  const stopAll = async (redis: RedisServer) => {
    await stopWorkers(workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null));
    await redis.stop();
  };
  const worker = async (url: string, env: Record<string, string> = {}, dir = modelsDir) => {
    const w = await startWorker(url, dir, env);
    workers.push(w);
    return w;
  };

  test('a worker SIGKILLed mid-job: its job goes back to the queue, another worker runs it, results bit-identical', async () => {
    const redis = await startRedis();
    try {
      const victim = await worker(redis.url, SLOW);
      const coordinator = startCli(sweep('killed-worker', redis.url));
      const [, job] = await victim.waitFor(/job (\S+) \(.*\): model kjv-tiny ready/);
      victim.kill();
      const rescuer = await worker(redis.url);
      const r = await coordinator.exited;
      assert.equal(r.code, 0, coordinator.output());
      assert.ok(startedJobs(rescuer.output()).includes(job), `the killed job ${job} ran again:\n${rescuer.output()}`);
      assert.deepEqual(metrics('killed-worker'), reference);
      await stopWorkers([rescuer]);
    } finally {
      await stopAll(redis);
    }
  });

  test('a coordinator SIGKILLed and started again: resumes, and no job runs twice', async () => {
    const redis = await startRedis();
    try {
      const w = await worker(redis.url, SLOW);
      const first = startCli(sweep('killed-coordinator', redis.url));
      await waitForStates(join(root, 'killed-coordinator'), 1);
      first.kill(true);
      await first.exited;
      const again = await cli(sweep('killed-coordinator', redis.url));
      assert.equal(again.code, 0, again.output);
      const todo = Number(again.output.match(/(\d+) of 4 jobs to do/)![1]);
      assert.ok(todo < JOBS, again.output);
      const ran = startedJobs(w.output());
      assert.equal(ran.length, JOBS, ran.join(', '));
      assert.equal(new Set(ran).size, JOBS);
      assert.deepEqual(metrics('killed-coordinator'), reference);
      await stopWorkers([w]);
    } finally {
      await stopAll(redis);
    }
  });

  test('a worker whose copy of the model differs refuses the job; the run fails with its message', async () => {
    const redis = await startRedis();
    try {
      const other = join(root, 'other-worker');
      const dir = modelsFolder(other, kjv, 'kjv-tiny');
      const config = join(dir, 'kjv-tiny', 'config.json');
      writeFileSync(config, readFileSync(config, 'utf8').replace('"rms_norm_eps": 1e-05', '"rms_norm_eps": 1e-06'));
      const w = await worker(redis.url, {}, dir);
      const r = await cli(sweep('refused', redis.url));
      assert.equal(r.code, 2, r.output);
      const line = errorLine(r.output);
      assert.match(line, /job sweep-job-\d-0 .* failed after 1 attempt\(s\): worker [^ ]+:\d+: model kjv-tiny on this worker has digest [0-9a-f]{16}, the run's has [0-9a-f]{16}/);
      assert.match(w.output(), /failed after .*another version of the model/);
      await stopWorkers([w]);
    } finally {
      await stopAll(redis);
    }
  });

  test('a job that fails for a real reason (a NaN in the worker\'s weights) fails the run with the worker\'s message after 3 attempts', async () => {
    const redis = await startRedis();
    try {
      const dir = modelsFolder(join(root, 'nan-worker'), kjv, 'kjv-tiny');
      const file = join(dir, 'kjv-tiny', 'model.safetensors');
      const st = readFileSync(file);
      st.writeFloatLE(Number.NaN, 8 + Number(st.readBigUInt64LE(0)) + 4 * 1000);
      writeFileSync(file, st);
      const w = await worker(redis.url, {}, dir);
      const r = await cli(sweep('nan', redis.url));
      assert.equal(r.code, 2, r.output);
      assert.match(errorLine(r.output), /job sweep-job-\d-0 .* failed after 3 attempt\(s\): worker [^ ]+:\d+: \S+model\.safetensors: tensor '[^']+' holds NaN at element \d+; the checkpoint is corrupted/);
      await stopWorkers([w]);
    } finally {
      await stopAll(redis);
    }
  });

  test('a wrong password or an unreachable Redis: one line, exit 2, the password never shown', async () => {
    const redis = await startRedis({ password: 'right-Pa55' });
    try {
      const wrong = `redis://:wrong-Pa55@127.0.0.1:${redis.port}`;
      for (const command of [sweep('wrong-password', wrong), ['worker', '--queue', wrong]]) {
        const r = await cli(command);
        assert.equal(r.code, 2, r.output);
        assert.equal(errorLine(r.output), `layerlab: Redis at redis://:***@127.0.0.1:${redis.port} refused the password (check the password in --queue)`);
        assert.doesNotMatch(r.output, /Pa55/);
      }
      const port = await freePort();
      const r = await cli(sweep('unreachable', `redis://127.0.0.1:${port}`));
      assert.equal(r.code, 2, r.output);
      assert.equal(errorLine(r.output), `layerlab: cannot reach Redis at redis://127.0.0.1:${port}: connection refused`);
    } finally {
      await stopAll(redis);
    }
  });

  test('Redis restarted mid-run (AOF): the run continues to the same results', async () => {
    const redis = await startRedis({ aof: true });
    try {
      const w = await worker(redis.url, SLOW);
      const coordinator = startCli(sweep('redis-restart', redis.url));
      await waitForStates(join(root, 'redis-restart'), 1);
      await redis.restart();
      const r = await coordinator.exited;
      assert.equal(r.code, 0, coordinator.output());
      assert.deepEqual(metrics('redis-restart'), reference);
      await stopWorkers([w]);
    } finally {
      await stopAll(redis);
    }
  });

  test('Redis gone mid-run: the coordinator stops with one line; once Redis is back the same command resumes', async () => {
    const redis = await startRedis({ aof: true });
    try {
      const w = await worker(redis.url, SLOW);
      const coordinator = startCli(sweep('redis-gone', redis.url));
      await waitForStates(join(root, 'redis-gone'), 1);
      redis.kill();
      const r = await coordinator.exited;
      assert.equal(r.code, 2, coordinator.output());
      assert.match(errorLine(coordinator.output()), /^layerlab: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*; the \d finished jobs are saved in .*redis-gone: run the same command again to resume$/);
      await redis.restart();
      const again = await cli(sweep('redis-gone', redis.url));
      assert.equal(again.code, 0, again.output);
      assert.deepEqual(metrics('redis-gone'), reference);
      await stopWorkers([w]);
    } finally {
      await stopAll(redis);
    }
  });
});
