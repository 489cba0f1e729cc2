import { cpus, loadavg, totalmem } from 'node:os';
import type { Backend } from '../src/backend/index.js';
import { gitCommit } from '../src/util/provenance.js';
import { cpuFeatures } from '../src/backend/cpu.js';
import { layerlabVersion } from '../src/util/package-root.js';

export function machineInfo(backend: Backend) {
  const info = backend.info();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    backend: info.name,
    blasCore: info.core,
    blasConfig: info.config,
    threads: info.threads,
    threadsByLibrary: info.threadsByLibrary,
    cpuFeatures: cpuFeatures(),
    onednn: info.onednn,
    kernels: info.kernels,
    /** Load average when the run started: on a shared machine, timings are noisy; compare ratios. */
    loadAverage: loadavg().map((x) => +x.toFixed(2)),
    layerlab: layerlabVersion,
    gitCommit: gitCommit(),
    date: new Date().toISOString(),
  };
}

/** Median of a few timed runs (ms). */
export function timeMedian(reps: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
