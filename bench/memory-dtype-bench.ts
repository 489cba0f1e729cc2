import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2_MEDIUM, writeRandomGpt2 } from '../src/model/random-checkpoint.js';
import { packageRoot } from '../src/util/package-root.js';

function child(dir: string, batch: number, seq: number, dtype: string) {
  const r = spawnSync(process.execPath, [join(packageRoot, 'dist', 'bench', 'memory-child.js'), dir, String(batch), String(seq), dtype], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`memory child failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout);
  return { peakRssMiB: +(m.peakRss / 2 ** 20).toFixed(1), rssAfterLoadMiB: +(m.rssAfterLoad / 2 ** 20).toFixed(1), loadMs: Math.round(m.loadMs), forwardMs: Math.round(m.forwardMs) };
}

/**
 * Peak RSS of load + one forward [batch, seq] of a random GPT-2-medium, in separate processes:
 * an F32 checkpoint run in f32, the same weights stored BF16 run in bf16, and the BF16 checkpoint run in
 * f32. Aim: bf16 peak <= 0.55 x f32 peak. (BENCH_MEM_SEQ, default 128: a short forward, so the weights
 * dominate as they do in a sweep batch after the first; activations are the same f32 arrays in both.)
 */
export function benchMemoryDtype(batch = 1, seq = Number(process.env.BENCH_MEM_SEQ ?? 128)) {
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-memdt-'));
  try {
    const f32Dir = join(dir, 'f32'), bf16Dir = join(dir, 'bf16');
    const { f32Bytes } = writeRandomGpt2(f32Dir, GPT2_MEDIUM, { seed: 5 });
    writeRandomGpt2(bf16Dir, GPT2_MEDIUM, { seed: 5, dtype: 'BF16' });
    const f32 = child(f32Dir, batch, seq, 'f32');
    const bf16 = child(bf16Dir, batch, seq, 'bf16');
    const bf16CkptAsF32 = child(bf16Dir, batch, seq, 'f32');
    return {
      model: 'gpt2-medium (random)',
      weightsF32MiB: +(f32Bytes / 2 ** 20).toFixed(1),
      batch,
      seq,
      f32,
      bf16,
      bf16CheckpointAsF32: bf16CkptAsF32,
      /** bf16 peak RSS over f32 peak RSS (aim <= 0.55). */
      peakRatio: +(bf16.peakRssMiB / f32.peakRssMiB).toFixed(3),
      withinAim: bf16.peakRssMiB <= 0.55 * f32.peakRssMiB,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
