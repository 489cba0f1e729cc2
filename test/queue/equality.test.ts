/**
 * `--queue`: a coordinator and three `layerlab worker` processes on a real redis-server write the same
 * result files as the in-process run (bar provenance timestamps), for the sweep and the stage analyses:
 * on the committed kjv-tiny model always, and on ../shared/models/stories260k when present. Each job runs
 * exactly once, on some worker, from its own copy of the model (found under --models by folder name).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { repoRoot, sharedPath } from '../helpers/shared.js';
import { cli, comparable, modelsFolder, stageFiles, startedJobs, startWorker, stopWorkers, type Proc } from './helpers.js';

const corpus = join(repoRoot, 'assets', 'corpus.jsonl');
const data = ['--data', corpus, '--max-docs', '3', '--seq-len', '64', '--shard-docs', '1'];
const sweepArgs = [...data, '--interventions', 'delete,swap', '--batch-tokens', '256'];
const stagesArgs = [...data, '--analyses', 'logit-lens,mlp-norm,cka,local-attention,repeat', '--batch-tokens', '256'];

const models: Array<{ name: string; dir: string | undefined }> = [
  { name: 'kjv-tiny', dir: join(repoRoot, 'assets', 'kjv-tiny') },
  { name: 'stories260k', dir: sharedPath('models', 'stories260k') },
];

describe('coordinator + 3 workers = in-process', () => {
  let redis: RedisServer;
  let root: string;
  let workers: Proc[] = [];
  let modelsDir: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'layerlab-queue-eq-'));
    redis = await startRedis();
    // The workers' copies live apart from the coordinator's: the same files, another place.
    for (const m of models) if (m.dir) modelsDir = modelsFolder(join(root, 'worker'), m.dir, m.name);
    workers = await Promise.all([0, 1, 2].map(() => startWorker(redis.url, modelsDir)));
  });
  after(async () => {
    await stopWorkers(workers);
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('kjv-tiny under --protocol paper: the protocol reaches the workers (sweep entropy clamp, CKA all-token variant)', async () => {
    const m = models[0];
    const model = join(modelsFolder(join(root, 'coordinator'), m.dir!, m.name), m.name);
    const paper = ['--protocol', 'paper', '--data', corpus, '--max-docs', '3', '--seq-len', '64', '--shard-docs', '1', '--batch-tokens', '256'];
    for (const [command, args] of [['sweep', [...paper, '--interventions', 'delete']], ['stages', [...paper, '--analyses', 'cka,mlp-norm']]] as const) {
      const inproc = join(root, `paper-${command}-inproc`);
      const queued = join(root, `paper-${command}-queue`);
      const a = await cli([command, '--model', model, ...args, '--out', inproc]);
      assert.equal(a.code, 0, a.output);
      const b = await cli([command, '--model', model, ...args, '--out', queued, '--queue', redis.url]);
      assert.equal(b.code, 0, b.output);
      const files = command === 'sweep' ? ['metrics.json'] : stageFiles(inproc);
      for (const f of files) assert.deepEqual(comparable(join(queued, f)), comparable(join(inproc, f)), f);
      const choices = JSON.stringify(comparable(join(queued, command === 'sweep' ? 'metrics.json' : 'cka.json')));
      assert.match(choices, /"protocol":"paper"/);
    }
  });

  for (const m of models) {
    const opts = m.dir ? {} : { skip: 'missing ../shared/models/stories260k (read-only test assets beside the checkout)' };
    test(`${m.name}: sweep and stages through the queue write the in-process files, each job run once`, opts, async () => {
      const model = modelsFolder(join(root, 'coordinator'), m.dir!, m.name);
      for (const [command, args] of [['sweep', sweepArgs], ['stages', stagesArgs]] as const) {
        const inproc = join(root, `${m.name}-${command}-inproc`);
        const queued = join(root, `${m.name}-${command}-queue`);
        const a = await cli([command, '--model', join(model, m.name), ...args, '--out', inproc]);
        assert.equal(a.code, 0, a.output);
        const before = workers.map((w) => startedJobs(w.output()).length);
        const b = await cli([command, '--model', join(model, m.name), ...args, '--out', queued, '--queue', redis.url]);
        assert.equal(b.code, 0, b.output);
        const jobs = Number(b.output.match(/queued (\d+) jobs/)![1]);
        assert.ok(jobs >= 3, `several jobs to spread (${jobs})`);
        // Every job ran exactly once on some worker.
        const ran = workers.flatMap((w, i) => startedJobs(w.output()).slice(before[i]));
        assert.equal(ran.length, jobs, ran.join(', '));
        assert.equal(new Set(ran).size, jobs);
        const files = command === 'sweep' ? ['metrics.json'] : stageFiles(inproc);
        assert.ok(files.length >= (command === 'sweep' ? 1 : 5), files.join(', '));
        for (const f of files) assert.deepEqual(comparable(join(queued, f)), comparable(join(inproc, f)), f);
        const manifest = comparable(join(queued, 'manifest.json')) as { execution: { where: string; model_digest: string } };
        assert.equal(manifest.execution.where, 'queue');
        assert.match(manifest.execution.model_digest, /^[0-9a-f]{64}$/);
      }
    });
  }
});
