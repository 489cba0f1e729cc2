import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { BUNDLED } from '../src/load/bundled.js';
import { writeRandomGpt2 } from '../src/model/random-checkpoint.js';
import { packageRoot } from '../src/util/package-root.js';
import { startRedis } from '../test/helpers/redis-server.js';

const main = join(packageRoot, 'dist', 'src', 'cli', 'main.js');

/** `layerlab ARGS` as a child process with its output collected. */
function start(args: string[], env: Record<string, string>): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [main, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  return { proc, output: () => out, exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))) };
}

async function waitFor(p: { output: () => string; proc: ChildProcess }, re: RegExp, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(p.output())) {
    if (p.proc.exitCode !== null) throw new Error(`process ended before ${re}: ${p.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}: ${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * CPU time (ms) of this process's finished children and their descendants (Linux: cutime + cstime of
 * /proc/self/stat, 100 ticks a second), so a setup's CPU covers its coordinator, workers and their compute
 * processes once all have exited. Steadier than wall time on a shared machine; NaN elsewhere.
 */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** metrics.json without provenance (it records threads and times, which differ between the set-ups by design). */
const numbers = (dir: string) => {
  const m = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  delete m.provenance;
  return m;
};

/**
 * BENCH=queue (b): the same sweep run end to end, in-process and through the queue with 1 worker x 2
 * threads and 2 workers x 1 thread (each worker one job at a time), on a GPT-2-small-shaped random model
 * (F32 safetensors written to a temporary folder, the bundled tokenizer) over QUEUE_E2E_TOKENS (default
 * 2048) tokens of the bundled corpus cut into documents of QUEUE_E2E_DOC_WORDS (50) words, windows of
 * QUEUE_E2E_SEQ (128) tokens, one job per document (--shard-docs 1):
 * all deletions and swaps. Workers are listening before the coordinator starts; each run's wall time
 * covers tokenizing, queueing, model loading on the workers, the jobs and the merge. The numbers of all
 * three runs must be identical (checked). Each setup's CPU time (all its processes) is reported too: on
 * a shared machine it is the steadier figure. QUEUE_E2E_ROUNDS (default 1) repeats the three,
 * interleaved; the fastest of each counts.
 */
export async function benchQueueWorkers(log: (s: string) => void) {
  const env = process.env;
  const tokens = Number(env.QUEUE_E2E_TOKENS ?? 2048);
  const seq = Number(env.QUEUE_E2E_SEQ ?? 128);
  const rounds = Number(env.QUEUE_E2E_ROUNDS ?? 1);
  const wordsPerDoc = Number(env.QUEUE_E2E_DOC_WORDS ?? 50);
  const root = mkdtempSync(join(tmpdir(), 'layerlab-queue-e2e-'));
  const redis = await startRedis({ aof: true });
  try {
    // The model: GPT-2-small shape with the bundled byte-level tokenizer (its ids fit GPT-2's vocabulary).
    const coordModel = join(root, 'coordinator', 'gpt2-small');
    writeRandomGpt2(coordModel, { nLayers: 12, dModel: 768, nHeads: 12, vocabSize: 50257, nCtx: 1024 }, { seed: 11 });
    const cfg = JSON.parse(readFileSync(join(coordModel, 'config.json'), 'utf8'));
    const bundledCfg = JSON.parse(readFileSync(join(BUNDLED.modelDir, 'config.json'), 'utf8'));
    writeFileSync(join(coordModel, 'config.json'), JSON.stringify({ ...cfg, bos_token_id: bundledCfg.bos_token_id, eos_token_id: bundledCfg.eos_token_id }));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(BUNDLED.modelDir, f), join(coordModel, f));
    // The workers' copy, found by folder name under --models.
    const modelsDir = join(root, 'worker-models');
    mkdirSync(join(modelsDir, 'gpt2-small'), { recursive: true });
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(coordModel, f), join(modelsDir, 'gpt2-small', f));
    // Short documents: the corpus's chapters cut every `wordsPerDoc` words.
    const docs: string[] = [];
    for (const line of readFileSync(BUNDLED.corpus, 'utf8').split('\n').filter(Boolean)) {
      const words = (JSON.parse(line).text as string).split(/\s+/);
      for (let i = 0; i + wordsPerDoc <= words.length; i += wordsPerDoc) docs.push(words.slice(i, i + wordsPerDoc).join(' '));
    }
    const data = join(root, 'docs.jsonl');
    writeFileSync(data, docs.map((text) => JSON.stringify({ text })).join('\n') + '\n');

    const args = (out: string) => ['sweep', '--model', coordModel, '--data', data, '--interventions', 'delete,swap', '--max-tokens', String(tokens),
      '--seq-len', String(seq), '--shard-docs', '1', '--out', out];
    const setups = [
      { name: 'in-process, 2 threads', workers: [] as string[][] },
      { name: '1 worker x 2 threads', workers: [['--threads', '2']] },
      { name: '2 workers x 1 thread', workers: [['--threads', '1'], ['--threads', '1']] },
    ];
    const best = new Map<string, { ms: number; cpuMs: number; jobs: number; dir: string }>();
    for (let round = 0; round < rounds; round++)
      for (const s of setups) {
        const dir = join(root, `run-${round}-${s.name.replace(/\W+/g, '-')}`);
        const workers = s.workers.map((w) => start(['worker', '--queue', redis.url, '--models', modelsDir, '--concurrency', '1', ...w], {}));
        for (const w of workers) await waitFor(w, /listening on/);
        log(`queue bench: ${s.name}, ${tokens} tokens ...`);
        const cpu0 = childrenCpuMs();
        const t0 = performance.now();
        const c = start([...args(dir), ...(workers.length ? ['--queue', redis.url] : [])], { LAYERLAB_THREADS: '2' });
        const code = await c.exited;
        const ms = performance.now() - t0;
        for (const w of workers) w.proc.kill('SIGTERM');
        await Promise.all(workers.map((w) => w.exited));
        const cpuMs = childrenCpuMs() - cpu0;
        if (code !== 0) throw new Error(`queue bench: ${s.name} failed: ${c.output()}`);
        const jobs = Number(/queued (\d+) jobs/.exec(c.output())?.[1] ?? JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).data.documents);
        log(`  ${(ms / 1000).toFixed(1)} s (${(cpuMs / 1000).toFixed(1)} s CPU), ${jobs} jobs`);
        const prev = best.get(s.name);
        if (!prev || ms < prev.ms) best.set(s.name, { ms, cpuMs, jobs, dir });
      }
    const ref = numbers(best.get(setups[0].name)!.dir);
    const runs = setups.map((s) => {
      const b = best.get(s.name)!;
      return { setup: s.name, ms: Math.round(b.ms), cpuMs: Math.round(b.cpuMs), jobs: b.jobs, sameNumbersAsInProcess: isDeepStrictEqual(numbers(b.dir), ref) };
    });
    const ms = (name: string) => runs.find((r) => r.setup === name)!.ms;
    const cpu = (name: string) => runs.find((r) => r.setup === name)!.cpuMs;
    const result = {
      model: 'gpt2-small (random)', interventions: 'delete,swap', tokens, seq, documents: runs[1].jobs, rounds, runs,
      /** Wall time ratios (> 1: the first is slower). */
      ratios: {
        twoWorkersOneThreadVsOneWorkerTwoThreads: +(ms('2 workers x 1 thread') / ms('1 worker x 2 threads')).toFixed(3),
        queueOneWorkerVsInProcess: +(ms('1 worker x 2 threads') / ms('in-process, 2 threads')).toFixed(3),
      },
      /** CPU time ratios of all processes of each setup. */
      cpuRatios: {
        twoWorkersOneThreadVsOneWorkerTwoThreads: +(cpu('2 workers x 1 thread') / cpu('1 worker x 2 threads')).toFixed(3),
        queueOneWorkerVsInProcess: +(cpu('1 worker x 2 threads') / cpu('in-process, 2 threads')).toFixed(3),
      },
    };
    log(`  2 workers x 1 thread / 1 worker x 2 threads = ${result.ratios.twoWorkersOneThreadVsOneWorkerTwoThreads}; queue (1 x 2) / in-process = ${result.ratios.queueOneWorkerVsInProcess}; same numbers: ${runs.every((r) => r.sameNumbersAsInProcess)}`);
    return result;
  } finally {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
