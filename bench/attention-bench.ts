import type { Backend, WeightDtype } from '../src/backend/index.js';
import { forward } from '../src/model/forward.js';
import { gpt2SmallConfig, randomModel, SeededRandom } from '../src/model/random.js';
import { median, torchRun } from './dtype-bench.js';
import { attentionFlops } from './forward-bench.js';

/**
 * The fused attention kernel before/after, one run, side by side (BENCH=attention): the portable kernel
 * (per-block BLAS calls, what layerlab used before the tiled kernel; forced with LAYERLAB_ATTENTION=blas)
 * against the one picked for this CPU, on the GPT-2-small shape. Reports the attention call alone in
 * GFLOP/s (useful causal FLOPs), and whole forwards in f32 and bf16 next to PyTorch eager f32/bf16.
 * Every figure comes as wall time and as CPU time (all threads of the process): on a machine shared with
 * other jobs, CPU time with LAYERLAB_THREADS=1 (PyTorch then gets one thread too) is the steadier ratio.
 * Knobs: BENCH_ATTN_SHAPES (default 2x256,8x512), BENCH_REPS (default 3), BENCH_TORCH=0, LAYERLAB_THREADS.
 */
const KERNELS = ['blas', 'picked'] as const;
type Kernel = (typeof KERNELS)[number];

function withKernel<T>(kernel: Kernel, fn: () => T): T {
  const saved = process.env.LAYERLAB_ATTENTION;
  if (kernel === 'blas') process.env.LAYERLAB_ATTENTION = 'blas';
  else delete process.env.LAYERLAB_ATTENTION;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.LAYERLAB_ATTENTION;
    else process.env.LAYERLAB_ATTENTION = saved;
  }
}

const ratio = (a: number, b: number) => +(a / b).toFixed(2);

/** Wall and CPU milliseconds of one call. */
function timed(fn: () => void): { wall: number; cpu: number } {
  const c = process.cpuUsage(), t = performance.now();
  fn();
  const wall = performance.now() - t, u = process.cpuUsage(c);
  return { wall, cpu: (u.user + u.system) / 1000 };
}
type Times = { wall: number[]; cpu: number[] };
const times = (): Times => ({ wall: [], cpu: [] });
const push = (ts: Times, t: { wall: number; cpu: number }) => (ts.wall.push(t.wall), ts.cpu.push(t.cpu));

export function benchAttention(backend: Backend, log: (s: string) => void) {
  const reps = Number(process.env.BENCH_REPS ?? 3);
  const config = gpt2SmallConfig();
  const picked = backend.info().kernels.attention;
  const rows = [];
  for (const shape of (process.env.BENCH_ATTN_SHAPES ?? '2x256,8x512').split(',')) {
    const [batch, seq] = shape.split('x').map(Number);
    log(`attention: gpt2-small shape, ${batch} x ${seq}: blas vs ${picked} kernel, ${reps} reps ...`);
    // The attention call alone, on a fused [B*T, 3*D] projection as the executor passes it.
    const H = config.nHeads, dh = config.dHead, ld = 3 * H * dh;
    const rng = new SeededRandom(5);
    const view = { qkv: rng.fillNormal(new Float32Array(batch * seq * ld), 1), ld, qCol: 0, kCol: H * dh, vCol: 2 * H * dh };
    const dims = { batch, seq, heads: H, kvHeads: H, headDim: dh, scale: 1 / Math.sqrt(dh) };
    const out = new Float32Array(batch * seq * H * dh);
    const perLayerFlops = attentionFlops(config, batch, seq) / config.nLayers;
    const kernelMs: Record<Kernel, Times> = { blas: times(), picked: times() };
    for (const k of KERNELS) withKernel(k, () => backend.attention(view, out, undefined, dims)); // warm-up
    for (let r = 0; r < 10 * reps; r++)
      for (const k of KERNELS) withKernel(k, () => push(kernelMs[k], timed(() => backend.attention(view, out, undefined, dims))));
    // Best of the reps: the least disturbed call of each kernel.
    const gflops = (k: Kernel, clock: 'wall' | 'cpu') => +(perLayerFlops / Math.min(...kernelMs[k][clock]) / 1e6).toFixed(1);
    log(`  attention alone (best of ${10 * reps}; wall / CPU time): blas ${gflops('blas', 'wall')} / ${gflops('blas', 'cpu')} GFLOP/s, ${picked} ${gflops('picked', 'wall')} / ${gflops('picked', 'cpu')} GFLOP/s`);

    // Whole forwards: every (dtype, kernel) pair alternates rep by rep, so machine noise hits all alike.
    const ids = new Int32Array(batch * seq).map(() => Math.floor(rng.uniform() * config.vocabSize));
    const models = { f32: randomModel(config, 7, backend, 'f32'), bf16: randomModel(config, 7, backend, 'bf16') };
    const ms: Record<string, Times> = {};
    for (const dt of ['f32', 'bf16'] as const) forward(models[dt], { ids: ids.subarray(0, seq), batch: 1, seq });
    for (let r = 0; r < reps; r++)
      for (const dt of ['f32', 'bf16'] as WeightDtype[])
        for (const k of KERNELS)
          withKernel(k, () => push((ms[`${dt}:${k}`] ??= times()), timed(() => forward(models[dt], { ids, batch, seq }))));
    const torchF32 = torchRun('gpt2', [reps, 'f32', batch, seq]), torchBf16 = torchRun('gpt2', [reps, 'bf16', batch, seq]);
    const num = (x: unknown) => (typeof x === 'number' ? x : NaN);
    const sides = (clock: 'wall' | 'cpu') => {
      const fwd = (dt: WeightDtype, k: Kernel) => +median(ms[`${dt}:${k}`][clock]).toFixed(1);
      const tf = num(clock === 'wall' ? torchF32.forwardMs : torchF32.forwardCpuMs);
      const tb = num(clock === 'wall' ? torchBf16.forwardMs : torchBf16.forwardCpuMs);
      const side = (k: Kernel) => ({
        kernel: k === 'blas' ? 'blas' : picked, f32Ms: fwd('f32', k), bf16Ms: fwd('bf16', k),
        /** Aims: f32 >= 2.0x PyTorch f32; bf16 >= 1.8x layerlab f32 and >= 1.3x PyTorch bf16. */
        f32VsTorchF32: ratio(tf, fwd('f32', k)), bf16VsLayerlabF32: ratio(fwd('f32', k), fwd('bf16', k)), bf16VsTorchBf16: ratio(tb, fwd('bf16', k)),
      });
      return { torch: { f32Ms: tf, bf16Ms: tb }, before: side('blas'), after: side('picked') };
    };
    const row = {
      model: 'gpt2-small (random)', batch, seq, reps, threads: backend.info().threadsByLibrary,
      attentionGflops: {
        wall: { blas: gflops('blas', 'wall'), [picked]: gflops('picked', 'wall') },
        cpu: { blas: gflops('blas', 'cpu'), [picked]: gflops('picked', 'cpu') },
      },
      forwardWall: sides('wall'),
      forwardCpu: sides('cpu'),
    };
    for (const clock of ['wall', 'cpu'] as const) {
      const f = clock === 'wall' ? row.forwardWall : row.forwardCpu;
      for (const s of [f.before, f.after])
        log(`  ${clock} time, ${s.kernel}: f32 ${s.f32Ms} ms (${s.f32VsTorchF32}x PyTorch f32 ${f.torch.f32Ms} ms), bf16 ${s.bf16Ms} ms (${s.bf16VsLayerlabF32}x layerlab f32, ${s.bf16VsTorchBf16}x PyTorch bf16 ${f.torch.bf16Ms} ms)`);
    }
    rows.push(row);
  }
  return rows;
}
