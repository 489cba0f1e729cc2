/**
 * The queue URL's password never reaches a file: a sweep run through the queue with `--queue
 * redis://:PASSWORD@...` records its command line (manifest, metrics) with the password as ***, and no
 * file of the run folder nor any output line contains it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../helpers/redis-server.js';
import { repoRoot } from '../helpers/shared.js';
import { cli, modelsFolder, startWorker, stopWorkers } from './helpers.js';

const PASSWORD = 'never-in-a-file-4711';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

test('a queued sweep records its command line with the password as *** and writes it nowhere', async () => {
  const root = mkdtempSync(join(tmpdir(), 'layerlab-queue-redact-'));
  const redis = await startRedis({ password: PASSWORD });
  const kjv = join(repoRoot, 'assets', 'kjv-tiny');
  const worker = await startWorker(redis.url, modelsFolder(join(root, 'worker'), kjv, 'kjv-tiny'));
  try {
    const out = join(root, 'run');
    const model = join(modelsFolder(join(root, 'coordinator'), kjv, 'kjv-tiny'), 'kjv-tiny');
    const r = await cli(['sweep', '--model', model, '--data', join(repoRoot, 'assets', 'corpus.jsonl'), '--max-docs', '2', '--seq-len', '64',
      '--shard-docs', '1', '--interventions', 'delete', '--batch-tokens', '256', '--out', out, '--queue', redis.url]);
    assert.equal(r.code, 0, r.output);
    assert.ok(!r.output.includes(PASSWORD), r.output);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.ok(manifest.command.includes(`redis://:***@127.0.0.1:${redis.port}`), JSON.stringify(manifest.command));
    const files = filesUnder(out);
    assert.ok(files.length >= 3);
    for (const f of files) assert.ok(!readFileSync(f).includes(PASSWORD), `${f} holds the password`);
  } finally {
    await stopWorkers([worker]);
    assert.ok(!worker.output().includes(PASSWORD));
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
