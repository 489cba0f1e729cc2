import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, WeightDtype } from '../src/backend/index.js';
import type { ModelConfig } from '../src/model/config.js';
import { forward } from '../src/model/forward.js';
import { gpt2SmallConfig, llama1BConfig, randomModel, SeededRandom } from '../src/model/random.js';
import { runSweep } from '../src/sweep/engine.js';
import { generateInterventions, parseInterventionSpecs } from '../src/sweep/interventions.js';
import { packageRoot } from '../src/util/package-root.js';

/**
 * f32 against bf16, layerlab against PyTorch eager, side by side in one run: a forward of [batch, seq]
 * (default 8 x 512) and a delete+swap sweep, on GPT-2-small and Llama-3.2-1B shapes with random weights.
 * Knobs (environment): BENCH_DTYPE_MODELS=gpt2,llama  BENCH_BATCH  BENCH_SEQ  BENCH_REPS (default 3)
 * BENCH_LLAMA_BATCH (default BENCH_BATCH)  BENCH_SWEEP_WINDOWS (default 8)  BENCH_SWEEP_SEQ (default 256)
 * BENCH_SWEEP_MODELS (default gpt2)  BENCH_TORCH=0 (skip PyTorch)  BENCH_SKIP_SWEEP=1.
 * Every forward is timed in wall time and in CPU time (all threads of the process; PyTorch reports the
 * same): on a shared machine run with LAYERLAB_THREADS=1 and read the CPU-time ratios. GPT-2's two dtypes
 * alternate rep by rep, so machine noise hits both alike; Llama-1B builds one dtype's model at a time
 * (the f32 model alone is ~5 GB).
 */
const env = process.env;
const num = (name: string, fallback: number) => Number(env[name] ?? fallback);

const SHAPES: Record<string, () => ModelConfig> = { gpt2: gpt2SmallConfig, llama: llama1BConfig };

export function torchRun(kind: string, args: (string | number)[]): Record<string, unknown> {
  const python = '/usr/bin/python3';
  if (env.BENCH_TORCH === '0') return { skipped: 'BENCH_TORCH=0' };
  if (!existsSync(python)) return { skipped: 'no /usr/bin/python3' };
  const r = spawnSync(python, [join(packageRoot, 'bench', 'torch_forward.py'), kind, ...args.map(String)], {
    encoding: 'utf8', maxBuffer: 1 << 24, env: { ...env, BENCH_THREADS: String(env.LAYERLAB_THREADS ?? env.BENCH_THREADS ?? '') || undefined },
  });
  if (r.status !== 0) return { skipped: `torch run failed: ${(r.stderr || r.error?.message || '').slice(-300)}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const ratio = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? +(a / b).toFixed(2) : null);

/** CPU time of this process so far (all threads), in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function benchForwardDtype(backend: Backend, log: (s: string) => void) {
  const seq = num('BENCH_SEQ', 512), reps = num('BENCH_REPS', 3);
  const rows = [];
  for (const kind of (env.BENCH_DTYPE_MODELS ?? 'gpt2,llama').split(',')) {
    const config = SHAPES[kind]();
    const batch = kind === 'llama' ? num('BENCH_LLAMA_BATCH', num('BENCH_BATCH', 8)) : num('BENCH_BATCH', 8);
    log(`forward-dtype: ${kind}, ${batch} x ${seq}, ${reps} reps per dtype ...`);
    const rng = new SeededRandom(3);
    const ids = new Int32Array(batch * seq).map(() => Math.floor(rng.uniform() * config.vocabSize));
    const ms: Record<WeightDtype, number[]> = { f32: [], bf16: [] };
    const cpu: Record<WeightDtype, number[]> = { f32: [], bf16: [] };
    const timed = (model: ReturnType<typeof randomModel>, dt: WeightDtype) => {
      const t = performance.now(), c = cpuMs();
      forward(model, { ids, batch, seq });
      cpu[dt].push(cpuMs() - c);
      ms[dt].push(performance.now() - t);
    };
    const warm = (model: ReturnType<typeof randomModel>) => forward(model, { ids: ids.subarray(0, seq), batch: 1, seq });
    if (kind === 'llama') {
      for (const dt of ['f32', 'bf16'] as const) {
        const model = randomModel(config, 7, backend, dt);
        warm(model);
        for (let r = 0; r < reps; r++) timed(model, dt);
      }
    } else {
      const models = { f32: randomModel(config, 7, backend, 'f32'), bf16: randomModel(config, 7, backend, 'bf16') };
      for (const dt of ['f32', 'bf16'] as const) warm(models[dt]);
      for (let r = 0; r < reps; r++) for (const dt of ['f32', 'bf16'] as const) timed(models[dt], dt);
    }
    const round = (xs: number[]) => xs.map((x) => +x.toFixed(0));
    const layerlab = {
      f32Ms: +median(ms.f32).toFixed(1), bf16Ms: +median(ms.bf16).toFixed(1), f32AllMs: round(ms.f32), bf16AllMs: round(ms.bf16),
      f32CpuMs: +median(cpu.f32).toFixed(1), bf16CpuMs: +median(cpu.bf16).toFixed(1), f32AllCpuMs: round(cpu.f32), bf16AllCpuMs: round(cpu.bf16),
    };
    log(`  layerlab f32 ${layerlab.f32Ms} ms (CPU ${layerlab.f32CpuMs}), bf16 ${layerlab.bf16Ms} ms (CPU ${layerlab.bf16CpuMs})`);
    // As many PyTorch reps as layerlab's, Llama included: one PyTorch bf16 Llama rep ranged 32.9-37.8 s between
    // runs, and the 1.3x aim is read from it.
    const torchF32 = torchRun(kind, [reps, 'f32', batch, seq]);
    const torchBf16 = torchRun(kind, [reps, 'bf16', batch, seq]);
    log(`  PyTorch f32 ${torchF32.forwardMs ?? torchF32.skipped} ms (CPU ${torchF32.forwardCpuMs}), bf16 ${torchBf16.forwardMs ?? torchBf16.skipped} ms (CPU ${torchBf16.forwardCpuMs})`);
    const tokens = batch * seq;
    rows.push({
      model: `${kind} (random)`, batch, seq, tokens, reps, threads: backend.info().threads,
      layerlab,
      torch: { f32: torchF32, bf16: torchBf16 },
      tokensPerSecond: {
        layerlabF32: Math.round((tokens / layerlab.f32Ms) * 1000), layerlabBf16: Math.round((tokens / layerlab.bf16Ms) * 1000),
        torchF32: typeof torchF32.forwardMs === 'number' ? Math.round((tokens / torchF32.forwardMs) * 1000) : null,
        torchBf16: typeof torchBf16.forwardMs === 'number' ? Math.round((tokens / torchBf16.forwardMs) * 1000) : null,
      },
      /** Speedups (time ratios); aims: bf16 vs f32 >= 1.8, bf16 vs torch bf16 >= 1.3, f32 vs torch f32 >= 2.0. */
      speedup: {
        bf16VsLayerlabF32: ratio(layerlab.f32Ms, layerlab.bf16Ms),
        bf16VsTorchBf16: ratio(torchBf16.forwardMs, layerlab.bf16Ms),
        f32VsTorchF32: ratio(torchF32.forwardMs, layerlab.f32Ms),
      },
      /** The same ratios in CPU time (all threads): the figures to read on a shared machine. */
      speedupCpu: {
        bf16VsLayerlabF32: ratio(layerlab.f32CpuMs, layerlab.bf16CpuMs),
        bf16VsTorchBf16: ratio(torchBf16.forwardCpuMs, layerlab.bf16CpuMs),
        f32VsTorchF32: ratio(torchF32.forwardCpuMs, layerlab.f32CpuMs),
      },
    });
  }
  return rows;
}

export function benchSweepDtype(backend: Backend, log: (s: string) => void) {
  const windows = num('BENCH_SWEEP_WINDOWS', 8), seq = num('BENCH_SWEEP_SEQ', 256), batch = Math.min(windows, 8);
  const rows = [];
  for (const kind of (env.BENCH_SWEEP_MODELS ?? 'gpt2').split(',')) {
    const config = SHAPES[kind]();
    const rng = new SeededRandom(5);
    const wins = Array.from({ length: windows }, () =>
      Int32Array.from({ length: seq }, (_, t) => (t === 0 ? config.bosTokenId! : Math.floor(rng.uniform() * config.vocabSize))));
    const data = { windows: wins, docIndex: wins.map((_, i) => i) };
    const plans = generateInterventions(parseInterventionSpecs('delete,swap'), config.nLayers).map((i) => i.plan);
    const run: Record<string, { ms: number; tokensPerSecond: number }> = {};
    const means: Record<string, number[]> = {};
    for (const dt of ['f32', 'bf16'] as const) {
      log(`sweep-dtype: ${kind} ${dt}, ${plans.length} plans, ${windows} x ${seq} tokens ...`);
      const model = randomModel(config, 7, backend, dt);
      const t = performance.now();
      const out = runSweep(model, plans, data, { maxBatchTokens: batch * seq });
      const ms = performance.now() - t;
      run[dt] = { ms: Math.round(ms), tokensPerSecond: +((out.tokens / ms) * 1000).toFixed(1) };
      means[dt] = out.plans.map((p) => p.kl.summary().mean);
      log(`  ${(ms / 1000).toFixed(1)} s`);
    }
    const torchF32 = torchRun(kind, [1, 'f32', batch, seq, 'sweep', windows]);
    const torchBf16 = torchRun(kind, [1, 'bf16', batch, seq, 'sweep', windows]);
    log(`  PyTorch (paper's method) f32 ${torchF32.sweepMs ?? torchF32.skipped} ms, bf16 ${torchBf16.sweepMs ?? torchBf16.skipped} ms`);
    const klRel = means.f32.map((k, i) => Math.abs(means.bf16[i] - k) / k);
    rows.push({
      model: `${kind} (random)`, interventions: 'delete,swap', plans: plans.length, windows, seq,
      layerlab: run,
      torch: { f32: { sweepMs: torchF32.sweepMs ?? torchF32.skipped }, bf16: { sweepMs: torchBf16.sweepMs ?? torchBf16.skipped } },
      speedup: {
        bf16VsLayerlabF32: ratio(run.f32.ms, run.bf16.ms),
        bf16VsTorchBf16: ratio(torchBf16.sweepMs, run.bf16.ms),
        f32VsTorchF32: ratio(torchF32.sweepMs, run.f32.ms),
      },
      /** Largest relative difference of a plan's mean KL between the f32 and bf16 sweeps (random weights). */
      maxKlRelDiffBf16VsF32: +Math.max(...klRel).toFixed(4),
    });
  }
  return rows;
}
