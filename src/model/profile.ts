/**
 * LAYERLAB_PROFILE=1: CPU time (all threads, process.cpuUsage) and wall time per step of the forward pass
 * (their ratio: how many cores the step kept busy), accumulated
 * over the process and printed as a table to stderr at exit. Off by default: a disabled `step` is one
 * branch and a call. The steps are the Executor's (matmuls by weight, norms, attention, element-wise work,
 * fresh residual arrays, hooks, finiteness scans, read-out), so `docs/bf16.md` can say where time goes.
 */
const enabled = process.env.LAYERLAB_PROFILE === '1';

interface Acc { us: number; wallUs: number; calls: number }
const table = new Map<string, Acc>();
let nested = 0;

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Runs fn, charging its CPU time to `name` (steps inside a step are charged to the outer one only). */
export function step<T>(name: string, fn: () => T): T {
  if (!enabled || nested > 0) return fn();
  nested++;
  const t = cpuMicros(), w = performance.now();
  try {
    return fn();
  } finally {
    const dt = cpuMicros() - t, dw = (performance.now() - w) * 1000;
    nested--;
    const a = table.get(name);
    if (a) { a.us += dt; a.wallUs += dw; a.calls++; } else table.set(name, { us: dt, wallUs: dw, calls: 1 });
  }
}

/** The accumulated table, largest first: [step, CPU seconds, calls, share of the profiled CPU total, wall seconds]. */
export function profileRows(): [string, number, number, number, number][] {
  const total = [...table.values()].reduce((s, a) => s + a.us, 0) || 1;
  return [...table.entries()].sort((a, b) => b[1].us - a[1].us).map(([n, a]) => [n, a.us / 1e6, a.calls, a.us / total, a.wallUs / 1e6]);
}

export function resetProfile(): void {
  table.clear();
}

export function profileEnabled(): boolean {
  return enabled;
}

/** The table as text (what LAYERLAB_PROFILE=1 prints at exit). */
export function formatProfile(): string {
  const rows = profileRows();
  const total = rows.reduce((s, r) => s + r[1], 0), wall = rows.reduce((s, r) => s + r[4], 0);
  const cores = (cpu: number, w: number) => (w > 0 ? (cpu / w).toFixed(2) : '-').padStart(6);
  const lines = ['layerlab profile (CPU seconds, all threads; wall seconds; cores = CPU / wall):', `${'step'.padEnd(24)} ${'cpu s'.padStart(8)} ${'wall s'.padStart(8)} ${'cores'.padStart(6)} ${'calls'.padStart(7)} ${'share'.padStart(6)}`];
  for (const [n, s, c, f, w] of rows) lines.push(`${n.padEnd(24)} ${s.toFixed(3).padStart(8)} ${w.toFixed(3).padStart(8)} ${cores(s, w)} ${String(c).padStart(7)} ${(f * 100).toFixed(1).padStart(5)}%`);
  lines.push(`${'total'.padEnd(24)} ${total.toFixed(3).padStart(8)} ${wall.toFixed(3).padStart(8)} ${cores(total, wall)}`);
  return lines.join('\n');
}

if (enabled) process.on('exit', () => { if (table.size) process.stderr.write(formatProfile() + '\n'); });
