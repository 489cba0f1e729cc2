import { execFileSync } from 'node:child_process';
import { cpus, hostname } from 'node:os';
import type { Model } from '../model/model.js';
import { cpuFeatures } from '../backend/cpu.js';
import { layerlabVersion, packageRoot } from './package-root.js';

let commitMemo: string | undefined;

/** The git commit layerlab runs from ('-dirty' when the tree has changes), or 'unknown' outside a checkout. */
export function gitCommit(): string {
  if (commitMemo !== undefined) return commitMemo;
  try {
    const opts = { cwd: packageRoot, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], encoding: 'utf8' as const };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    commitMemo = head + (dirty ? '-dirty' : '');
  } catch {
    commitMemo = 'unknown';
  }
  return commitMemo;
}

export interface Provenance {
  layerlab_version: string;
  git_commit: string;
  model: string;
  model_dir: string;
  revision?: string;
  model_commit?: string;
  family: string;
  model_type: string;
  stored_dtype: string;
  /** Weight precision of the run (--dtype after 'auto' is resolved) and why (absent in older results: f32). */
  dtype?: 'f32' | 'bf16';
  dtype_reason?: string;
  compute_dtype: 'float32' | 'bf16 weights and matmul inputs, float32 accumulation';
  backend: string;
  blas_core: string;
  /** Kernel of the weight matmuls in this run's dtype (e.g. 'openblas', 'onednn', 'onednn:brg:avx512_core_bf16'). */
  matmul_kernel?: string;
  /** Fused attention kernel: 'tiled-avx512' | 'blas' | 'js'. */
  attention_kernel?: string;
  /** oneDNN's effective ISA (avx512_core_bf16, avx512_core_amx, ...) and version, when linked. */
  onednn?: { isa: string; version: string };
  cpu_features?: string[];
  threads: number;
  threads_by_library?: Record<string, number>;
  node: string;
  host: { cpu: string; cores: number; name: string };
  created: string;
}

/** What every result file records about how it was produced. */
export function provenance(model: Model): Provenance {
  const info = model.backend.info();
  const dtype = model.dtype ?? 'f32';
  const cpu = cpus();
  return {
    layerlab_version: layerlabVersion,
    git_commit: gitCommit(),
    model: model.source.modelId ?? model.source.dir,
    model_dir: model.source.dir,
    revision: model.source.revision,
    model_commit: model.source.commit,
    family: model.config.family,
    model_type: model.config.modelType,
    stored_dtype: model.source.storedDtypes.join('+'),
    dtype,
    dtype_reason: model.dtypeDecision?.reason ?? 'f32',
    compute_dtype: dtype === 'bf16' ? 'bf16 weights and matmul inputs, float32 accumulation' : 'float32',
    backend: info.name,
    blas_core: info.core,
    matmul_kernel: dtype === 'bf16' ? info.kernels.bf16 : info.kernels.f32,
    attention_kernel: info.kernels.attention,
    onednn: info.onednn,
    cpu_features: cpuFeatures(),
    threads: info.threads,
    threads_by_library: info.threadsByLibrary,
    node: process.version,
    host: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, name: hostname() },
    created: new Date().toISOString(),
  };
}
