/*
 * Issue 9, point 3: one run folder, one writer. A lock file (pid, host, start time) makes a second
 * concurrent command stop at once naming the holder; a dead holder's lock is taken over; saved partial
 * state is bound to the run's key (model digest, data sha256, every option) and never resumed by a run
 * of another key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResumableRun } from '../../src/results/resumable-run.js';
import { acquireRunLock, FOREIGN_LOCK_STALE_MS, LOCK_FILE } from '../../src/results/run-lock.js';
import { LayerlabError } from '../../src/util/errors.js';
import { tempDir } from '../data/helpers/temp.js';
import { cliPath, isOneLineError, spawnCli, tinyCorpus, writeTinyModel } from './helpers.js';

const root = tempDir('layerlab-rel-lock-');
const model = writeTinyModel(join(root, 'model'));
const dataA = join(root, 'a.txt');
const dataB = join(root, 'b.txt');
writeFileSync(dataA, tinyCorpus(40, 3));
writeFileSync(dataB, tinyCorpus(40, 11));
const sweepArgs = (data: string, out: string) => ['sweep', '--model', model, '--data', data, '--interventions', 'delete,swap', '--batch-tokens', '64', '--out', out];
const metrics = (dir: string) => {
  const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  delete m.provenance.created;
  return m;
};

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('two concurrent sweeps on different data: the second stops at once naming the holder; the first is unharmed', async () => {
  const refA = join(root, 'refA');
  assert.equal(spawnCli(sweepArgs(dataA, refA)).code, 0);

  const out = join(root, 'shared-out');
  const a = spawn(process.execPath, [cliPath, ...sweepArgs(dataA, out)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LAYERLAB_THREADS: '1' } });
  const exited = new Promise<number | null>((res) => a.on('exit', (code) => res(code)));
  // Freeze A as soon as it holds the lock: a deterministic "A is still running".
  await waitFor(() => existsSync(join(out, LOCK_FILE)), 'sweep A to take the lock');
  a.kill('SIGSTOP');
  try {
    const t0 = Date.now();
    const b = spawnCli(sweepArgs(dataB, out));
    assert.equal(b.code, 2, b.stderr);
    assert.ok(isOneLineError(b.stderr), b.stderr);
    assert.match(b.stderr, new RegExp(`another layerlab command is writing to this folder \\(pid ${a.pid} on ${hostname()}, started \\d{4}-`));
    assert.ok(Date.now() - t0 < 30_000, 'refused at once, without waiting for A');
  } finally {
    a.kill('SIGCONT');
  }
  assert.equal(await exited, 0);
  assert.deepEqual(metrics(out), metrics(refA), "A's results are exactly those of A alone");
  assert.equal(existsSync(join(out, LOCK_FILE)), false, 'released at exit');
});

test('a writer caught between taking the lock and placing its run file is named as the holder, not called foreign', () => {
  // The moment test 1's SIGSTOP can land in: lock taken, the run file still a temporary beside it.
  const dir = join(root, 'mid-open');
  mkdirSync(dir);
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: holder.pid, host: hostname(), started: new Date().toISOString(), command: [] }));
    writeFileSync(join(dir, '.layerlab-run.json.tmp-1'), '{');
    const b = spawnCli(sweepArgs(dataB, dir));
    assert.equal(b.code, 2, b.stderr);
    assert.ok(isOneLineError(b.stderr), b.stderr);
    assert.match(b.stderr, new RegExp(`another layerlab command is writing to this folder \\(pid ${holder.pid} on ${hostname()}, started \\d{4}-`));
    assert.equal(readFileSync(join(dir, '.layerlab-run.json.tmp-1'), 'utf8'), '{', 'nothing of the holder touched');
  } finally {
    holder.kill('SIGKILL');
  }
});

test('a lock whose process is gone (kill -9) is taken over; a live foreign-host lock is not, an old one is', () => {
  const dir = join(root, 'stale');
  mkdirSync(dir);
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), started: new Date().toISOString(), command: [] }));
  const r = spawnCli(sweepArgs(dataA, dir));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`took over a stale lock .*process ${dead} is gone`));

  const foreign = (ageMs: number) => ({ pid: 1, host: 'some-other-host', started: new Date(Date.now() - ageMs).toISOString(), command: [] });
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(foreign(3600_000)));
  assert.throws(() => acquireRunLock(dir), (e: unknown) => e instanceof LayerlabError && /pid 1 on some-other-host/.test(e.message));
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(foreign(FOREIGN_LOCK_STALE_MS + 60_000)));
  const release = acquireRunLock(dir);
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  release();
  assert.equal(existsSync(join(dir, LOCK_FILE)), false);
});

test('a holder killed by SIGKILL leaves a lock the next command takes over; SIGTERM releases it', async () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    const dir = join(root, `holder-${signal}`);
    const holder = spawn(process.execPath, ['--input-type=module', '-e',
      `const { ResumableRun } = await import(${JSON.stringify(new URL('../../src/results/resumable-run.js', import.meta.url).href)});
       ResumableRun.open(${JSON.stringify(dir)}, { holder: true }); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((res) => holder.on('exit', res));
    await new Promise<void>((res) => holder.stdout!.once('data', () => res()));
    assert.throws(() => ResumableRun.open(dir, { other: true }), new RegExp(`pid ${holder.pid}`));
    holder.kill(signal);
    await exited;
    assert.equal(existsSync(join(dir, LOCK_FILE)), signal === 'SIGKILL', `${signal}: lock file left only by SIGKILL`);
    const run = ResumableRun.open(dir, { other: true });
    assert.equal(run.resumed, false);
    run.close();
  }
});

test('state saved under another key is never resumed: the run starts that part over and gets its own numbers', () => {
  const refB = join(root, 'refB');
  assert.equal(spawnCli(sweepArgs(dataB, refB)).code, 0);
  // A's partial state (killed after 1 batch) ...
  const dirA = join(root, 'killedA');
  const killedA = spawnCli(sweepArgs(dataA, dirA), { LAYERLAB_TEST_KILL_AFTER_UNITS: '2' });
  assert.equal(killedA.signal, 'SIGKILL');
  // ... lands in B's unfinished folder (what two unlocked writers used to produce).
  const out = join(root, 'mixed');
  const killedB = spawnCli(sweepArgs(dataB, out), { LAYERLAB_TEST_KILL_AFTER_UNITS: '1' });
  assert.equal(killedB.signal, 'SIGKILL');
  // A job's partial state: the first (and only) shard and plan group.
  copyFileSync(join(dirA, '.state', 'sweep-job-0-0-partial.json'), join(out, '.state', 'sweep-job-0-0-partial.json'));
  const r = spawnCli(sweepArgs(dataB, out));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /ignoring .*sweep-job-0-0-partial\.json: saved by a run with other data, model or options/);
  assert.doesNotMatch(r.stderr, /resuming/);
  assert.deepEqual(metrics(out), metrics(refB));

  // Same key: the state is used (resumption still works).
  const again = join(root, 'resume');
  assert.equal(spawnCli(sweepArgs(dataB, again), { LAYERLAB_TEST_KILL_AFTER_UNITS: '1' }).signal, 'SIGKILL');
  const resumed = spawnCli(sweepArgs(dataB, again));
  assert.match(resumed.stderr, /resuming .*: 1 of \d+ batches done/);
  assert.deepEqual(metrics(again), metrics(refB));
});

test('loadState ignores state stamped with another key, and unstamped (old-format) state', () => {
  const dir = join(root, 'unit');
  const a = ResumableRun.open(dir, { data: 'A' });
  a.saveState('part', { batchesDone: 3 });
  assert.deepEqual(a.loadState('part'), { batchesDone: 3 });
  a.close();
  const raw = readFileSync(join(dir, '.state', 'part.json'), 'utf8');
  // B takes the folder over (its key differs); A's state file is put back as if A wrote it late.
  const b = ResumableRun.open(dir, { data: 'B' });
  mkdirSync(join(dir, '.state'), { recursive: true });
  writeFileSync(join(dir, '.state', 'part.json'), raw);
  assert.equal(b.loadState('part'), undefined);
  writeFileSync(join(dir, '.state', 'part.json'), JSON.stringify({ batchesDone: 3 }));
  assert.equal(b.loadState('part'), undefined);
  b.close();
});
