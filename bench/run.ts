import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../src/backend/index.js';
import { gpt2SmallConfig, llama1BConfig } from '../src/model/random.js';
import { packageRoot } from '../src/util/package-root.js';
import { benchForward } from './forward-bench.js';
import { torchForward } from './torch-baseline.js';
import { benchMemory } from './memory-bench.js';
import { machineInfo } from './machine.js';
import { benchSweep } from './sweep-bench.js';
import { benchFiniteCheck } from './finite-bench.js';
import { benchEvaluate } from './evaluate-bench.js';
import { benchForwardDtype, benchSweepDtype } from './dtype-bench.js';
import { benchMemoryDtype } from './memory-dtype-bench.js';
import { benchAttention } from './attention-bench.js';
import { benchQueue } from './queue-bench.js';
import { benchQueueWorkers } from './queue-workers-bench.js';

/**
 * `npm run bench`: forward throughput against bare sgemm on the same shapes, written to
 * bench/results.json. Select parts with BENCH=forward,sweep,memory,finite,forward-dtype,memory-dtype,attention,evaluate
 * (default: all but evaluate). Not a test: numbers vary with the machine's load. BENCH=forward-dtype: f32 vs
 * bf16, layerlab vs PyTorch, forward and a delete+swap sweep (knobs in bench/dtype-bench.ts);
 * BENCH=memory-dtype: peak RSS f32 vs bf16; BENCH=attention: the fused attention kernel before/after
 * (bench/attention-bench.ts); BENCH=evaluate: shared scoring vs one forward per item and plan; BENCH=queue: the
 * queue's overhead per job against its compute (bench/queue-bench.ts) and whole runs through workers, 2 x 1
 * thread against 1 x 2 threads (bench/queue-workers-bench.ts), each with a redis-server started for it.
 */
const parts = new Set((process.env.BENCH ?? 'forward,sweep,memory,finite,forward-dtype,memory-dtype,attention').split(','));
const backend = getBackend();
// Parts not run this time keep their previous numbers (each part records its own machine info).
const resultsPath = join(packageRoot, 'bench', 'results.json');
const results: Record<string, unknown> = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};
results.machine = machineInfo(backend);
const log = (s: string) => process.stderr.write(s + '\n');

if (parts.has('forward')) {
  const rows = [];
  const only = process.env.BENCH_MODELS?.split(',');
  for (const [name, config, reps] of [['gpt2-small (random)', gpt2SmallConfig(), 3], ['llama-3.2-1B (random)', llama1BConfig(), 1]] as const) {
    if (only && !only.some((o) => name.startsWith(o))) continue;
    log(`forward: ${name}, batch 8 x 512 ...`);
    const r = benchForward(name, config, backend, 8, 512, reps);
    log(`  ${r.tokensPerSecond} tok/s, ${r.forwardEffectiveGflops} GFLOP/s effective vs ${r.bareSgemmGflops} bare sgemm (ratio ${r.ratioEffective}; time ratio ${r.ratioTime})`);
    // PyTorch eager on the same shapes, same run (Llama only when asked: it takes minutes).
    const kind = name.startsWith('gpt2') ? 'gpt2' : 'llama';
    const torch = kind === 'gpt2' || process.env.BENCH_TORCH_LLAMA ? torchForward(kind, reps) : { skipped: 'set BENCH_TORCH_LLAMA=1 to time it' };
    const speedup = 'forwardMs' in torch ? +(torch.forwardMs / r.forwardMs).toFixed(2) : undefined;
    log('forwardMs' in torch ? `  PyTorch eager fp32: ${torch.tokensPerSecond} tok/s; layerlab is ${speedup}x` : `  PyTorch: ${torch.skipped}`);
    rows.push({ ...r, torchEager: torch, speedupVsTorch: speedup });
  }
  results.forward = rows;
}

if (parts.has('memory')) {
  log('memory: random GPT-2-medium checkpoint, load + forward [1, 512] ...');
  const m = benchMemory();
  log(`  peak RSS ${m.peakRssMiB} MiB for ${m.weightsF32MiB} MiB of f32 weights + ${m.activationsMiB} MiB activations (x${m.ratioToWeightsPlusActivations}; budget ${m.budgetMiB} MiB)`);
  results.memory = m;
}

if (parts.has('sweep')) {
  // All deletions and swaps of a random GPT-2-small over SWEEP_BENCH_WINDOWS x SWEEP_BENCH_SEQ random tokens
  // (default 32 x 512): prefix sharing vs recomputing every plan vs the paper's method.
  const s = benchSweep(backend, { log });
  log(`  sweep: sharing ${s.speedup.sharingVsRecompute}x faster than recomputation, ${s.speedup.sharingVsPaper}x faster than the paper's method (max metric difference ${s.maxAbsDiff.toExponential(1)})`);
  results.sweep = s;
}

if (parts.has('finite')) {
  log('finite: NaN/Inf guard scans vs a GPT-2-small forward [1, 512] ...');
  const f = benchFiniteCheck(backend);
  log(`  native scans ${f.nativeScanMs} ms = ${f.nativeOverheadPercent}% of a ${f.forwardMs} ms forward (a JS loop: ${f.jsLoopScanMs} ms = ${f.jsLoopOverheadPercent}%)`);
  results.finite = f;
}

if (parts.has('evaluate')) {
  // ARC-Easy under all deletions and swaps of a random GPT-2-small: layerlab evaluate's shared scoring vs
  // one full forward per (item, choice, plan).
  const e = benchEvaluate(backend, { log });
  log(`  evaluate: shared scoring ${e.speedup}x faster than one forward per (item, choice, plan) (max |ll| difference ${e.maxAbsDiffLl.toExponential(1)})`);
  results.evaluate = { ...e, machine: machineInfo(backend) };
}

if (parts.has('forward-dtype')) {
  const forwardRows = benchForwardDtype(backend, log);
  for (const r of forwardRows) {
    log(`  ${r.model}: bf16 ${r.speedup.bf16VsLayerlabF32}x layerlab f32, ${r.speedup.bf16VsTorchBf16}x PyTorch bf16; f32 ${r.speedup.f32VsTorchF32}x PyTorch f32 (wall)`);
    log(`  ${r.model}: bf16 ${r.speedupCpu.bf16VsLayerlabF32}x layerlab f32, ${r.speedupCpu.bf16VsTorchBf16}x PyTorch bf16; f32 ${r.speedupCpu.f32VsTorchF32}x PyTorch f32 (CPU time)`);
  }
  // BENCH_SKIP_SWEEP=1 keeps the previous sweep rows, and rows of models not run this time (BENCH_DTYPE_MODELS)
  // are kept too: each row carries the commit and date it was measured at.
  const previous = results.forwardDtype as { sweep?: unknown; forward?: { model: string }[] } | undefined;
  const machine = results.machine as ReturnType<typeof machineInfo>;
  const stamp = { gitCommit: machine.gitCommit, date: machine.date };
  const measured = forwardRows.map((r) => ({ ...r, measuredAt: stamp }));
  const kept = (previous?.forward ?? []).filter((old) => !measured.some((r) => r.model === old.model));
  const sweepRows = process.env.BENCH_SKIP_SWEEP === '1' ? previous?.sweep ?? [] : benchSweepDtype(backend, log).map((r) => ({ ...r, measuredAt: stamp }));
  results.forwardDtype = { machine: results.machine, forward: [...measured, ...kept], sweep: sweepRows };
}

if (parts.has('attention')) {
  results.attention = { machine: results.machine, rows: benchAttention(backend, log) };
}

if (parts.has('memory-dtype')) {
  log('memory-dtype: random GPT-2-medium, F32 checkpoint in f32 vs BF16 checkpoint in bf16 ...');
  const m = benchMemoryDtype();
  log(`  peak RSS f32 ${m.f32.peakRssMiB} MiB, bf16 ${m.bf16.peakRssMiB} MiB (ratio ${m.peakRatio}, aim <= 0.55)`);
  results.memoryDtype = m;
}

if (parts.has('queue')) {
  // QUEUE_BENCH_PARTS=overhead,workers (default both): (a) one job's trip through the queue, (b) whole runs.
  const qparts = (process.env.QUEUE_BENCH_PARTS ?? 'overhead,workers').split(',');
  const prev = (results.queue ?? {}) as Record<string, unknown>;
  results.queue = {
    ...prev,
    machine: machineInfo(backend),
    ...(qparts.includes('overhead') ? { overhead: await benchQueue(backend, log) } : {}),
    ...(qparts.includes('workers') ? { workers: await benchQueueWorkers(log) } : {}),
  };
}

mkdirSync(join(packageRoot, 'bench'), { recursive: true });
writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
log(`wrote bench/results.json`);
