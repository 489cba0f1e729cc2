import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2_MEDIUM, writeRandomGpt2 } from '../src/model/random-checkpoint.js';
import { packageRoot } from '../src/util/package-root.js';

/**
 * Peak RSS of a process that loads a random GPT-2-medium checkpoint (F32 safetensors on disk) and runs one
 * forward of [batch, seq], against the f32 weight size plus the activations of that forward (residual
 * streams kept per block, scratch buffers, logits). Target: peak <= 1.25 x weights + activations.
 */
export function benchMemory(batch = 1, seq = 512) {
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-mem-'));
  try {
    const { f32Bytes } = writeRandomGpt2(join(dir, 'gpt2-medium'), GPT2_MEDIUM, { seed: 5 });
    const r = spawnSync(process.execPath, [join(packageRoot, 'dist', 'bench', 'memory-child.js'), join(dir, 'gpt2-medium'), String(batch), String(seq)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`memory child failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout);
    const { dModel: D, vocabSize: V, nLayers: L } = GPT2_MEDIUM;
    const rows = batch * seq;
    // fresh per block: resid_mid, resid_post, attn_out, mlp_out (D each); scratch: normed x2, qkv 3D, z D, mlp 4D x2; logits V.
    const activationBytes = 4 * rows * (L * 4 * D + 2 * D + 3 * D + D + 8 * D + V);
    const budget = 1.25 * f32Bytes + activationBytes;
    return {
      model: 'gpt2-medium (random, F32 safetensors)',
      weightsF32MiB: +(f32Bytes / 2 ** 20).toFixed(1),
      activationsMiB: +(activationBytes / 2 ** 20).toFixed(1),
      peakRssMiB: +(m.peakRss / 2 ** 20).toFixed(1),
      rssAfterLoadMiB: +(m.rssAfterLoad / 2 ** 20).toFixed(1),
      budgetMiB: +(budget / 2 ** 20).toFixed(1),
      ratioToWeightsPlusActivations: +(m.peakRss / (f32Bytes + activationBytes)).toFixed(3),
      withinBudget: m.peakRss <= budget,
      loadMs: Math.round(m.loadMs),
      forwardMs: Math.round(m.forwardMs),
      batch,
      seq,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
