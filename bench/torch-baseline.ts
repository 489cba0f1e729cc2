import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/util/package-root.js';

/**
 * Times the same forward in PyTorch eager fp32 (Debian's python3-torch) in a child process, so both
 * numbers come from the same run on the same machine. Undefined (with the reason) when torch is missing.
 */
export function torchForward(model: 'gpt2' | 'llama', reps: number): { forwardMs: number; tokensPerSecond: number; torch: string } | { skipped: string } {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return { skipped: 'no /usr/bin/python3' };
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: 'python3-torch is not installed (apt-get install python3-torch)' };
  const r = spawnSync(python, [join(packageRoot, 'bench', 'torch_forward.py'), model, String(reps)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) return { skipped: `torch run failed: ${r.stderr.slice(-300)}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
