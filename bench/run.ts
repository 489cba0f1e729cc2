import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../src/backend/index.js';
import { gpt2SmallConfig, llama1BConfig } from '../src/model/random.js';
import { packageRoot } from '../src/util/package-root.js';
import { benchForward } from './forward-bench.js';
import { machineInfo } from './machine.js';

/**
 * `npm run bench`: forward throughput against bare sgemm on the same shapes, written to
 * bench/results.json. Select parts with BENCH=forward,sweep (default: all). Not a test: numbers vary
 * with the machine's load.
 */
const parts = new Set((process.env.BENCH ?? 'forward').split(','));
const backend = getBackend();
const results: Record<string, unknown> = { machine: machineInfo(backend) };
const log = (s: string) => process.stderr.write(s + '\n');

if (parts.has('forward')) {
  const rows = [];
  for (const [name, config, reps] of [['gpt2-small (random)', gpt2SmallConfig(), 3], ['llama-3.2-1B (random)', llama1BConfig(), 1]] as const) {
    log(`forward: ${name}, batch 8 x 512 ...`);
    const r = benchForward(name, config, backend, 8, 512, reps);
    log(`  ${r.tokensPerSecond} tok/s, ${r.forwardEffectiveGflops} GFLOP/s effective vs ${r.bareSgemmGflops} bare sgemm (ratio ${r.ratioEffective}; time ratio ${r.ratioTime})`);
    rows.push(r);
  }
  results.forward = rows;
}

const outDir = join(packageRoot, 'bench');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
log(`wrote bench/results.json`);
