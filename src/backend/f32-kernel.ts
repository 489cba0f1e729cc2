import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { cpuFeatures } from './cpu.js';

/** The two fp32 GEMMs the native backend links: Debian's OpenBLAS and oneDNN's dnnl_sgemm. */
export type F32Kernel = 'openblas' | 'onednn';
export interface F32KernelChoice {
  kernel: F32Kernel;
  /** 'env' (LAYERLAB_F32_KERNEL), 'cached' (an earlier measurement on this machine) or 'measured' (now). */
  how: 'env' | 'cached' | 'measured';
  /** GFLOP/s of each on the probe shapes, when measured. */
  gflops?: Record<F32Kernel, number>;
}

/** How much faster oneDNN's fp32 GEMM must measure to replace OpenBLAS (see chooseF32Kernel). */
export const ONEDNN_MARGIN = 1.15;

/** One probe: a [rows, k] x [k, n] weight product, the kind a forward pass runs (weights stored [out, in]). */
export type GemmProbe = (kernel: F32Kernel, m: number, n: number, k: number) => number;

function cacheFile(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'layerlab', 'f32-kernel.json');
}

/**
 * Picks the faster fp32 GEMM for this CPU and thread count. Both are within noise of each other on the
 * machines measured so far (docs/bf16.md), so the choice is measured, not assumed: two weight-matmul
 * shapes, best of 3 interleaved runs each (about 0.1 s), once per machine; the result is cached under
 * ~/.cache/layerlab so every later run on the machine uses the same kernel (same numbers run to run).
 * oneDNN must win by ONEDNN_MARGIN: its sgemm picks kernels by row count (below 16 rows a row's result
 * moves by ~1e-7; NativeBackend pads small products past that, row-blocks.ts) and its thread split may
 * follow the shape on bigger machines, which was not measurable here; OpenBLAS never splits K across
 * threads. LAYERLAB_F32_KERNEL=openblas|onednn overrides.
 */
export function chooseF32Kernel(probe: GemmProbe, threads: number, identity: string): F32KernelChoice {
  const env = process.env.LAYERLAB_F32_KERNEL;
  if (env === 'openblas' || env === 'onednn') return { kernel: env, how: 'env' };
  if (env !== undefined && env !== 'auto') throw new Error(`LAYERLAB_F32_KERNEL must be 'openblas', 'onednn' or 'auto', got '${env}'`);
  const key = [cpus()[0]?.model ?? 'cpu', cpuFeatures().join(' '), `threads=${threads}`, identity].join(' | ');
  let cache: Record<string, F32KernelChoice> = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile(), 'utf8'));
  } catch {
    /* no cache yet */
  }
  const hit = cache[key];
  if (hit && (hit.kernel === 'openblas' || hit.kernel === 'onednn')) return { ...hit, how: 'cached' };
  const shapes: Array<[number, number, number]> = [[256, 2304, 768], [256, 768, 3072]];
  const best: Record<F32Kernel, number> = { openblas: 0, onednn: 0 };
  for (const kernel of ['openblas', 'onednn'] as const) probe(kernel, 64, 64, 64); // warm-up (thread pools)
  for (let rep = 0; rep < 3; rep++)
    for (const kernel of ['openblas', 'onednn'] as const) {
      let flops = 0, ms = 0;
      for (const [m, n, k] of shapes) {
        ms += probe(kernel, m, n, k);
        flops += 2 * m * n * k;
      }
      best[kernel] = Math.max(best[kernel], flops / ms / 1e6);
    }
  const choice: F32KernelChoice = {
    kernel: best.onednn > ONEDNN_MARGIN * best.openblas ? 'onednn' : 'openblas',
    how: 'measured',
    gflops: { openblas: +best.openblas.toFixed(1), onednn: +best.onednn.toFixed(1) },
  };
  try {
    mkdirSync(join(cacheFile(), '..'), { recursive: true });
    writeFileSync(cacheFile(), JSON.stringify({ ...cache, [key]: choice }, null, 2));
  } catch {
    /* a read-only home only costs a re-measurement next time */
  }
  return choice;
}
