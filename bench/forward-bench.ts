import type { Backend } from '../src/backend/index.js';
import type { ModelConfig } from '../src/model/config.js';
import { forward } from '../src/model/forward.js';
import { randomModel, SeededRandom } from '../src/model/random.js';
import { timeMedian } from './machine.js';

interface GemmShape { name: string; n: number; k: number; count: number }

/** The weight matmuls one forward pass runs, as [rows x k] · [k x n] products. */
function weightGemms(c: ModelConfig): GemmShape[] {
  const D = c.dModel, qkv = (c.nHeads + 2 * c.nKvHeads) * c.dHead;
  return [
    { name: 'qkv', n: qkv, k: D, count: c.nLayers },
    { name: 'attn_out', n: D, k: c.nHeads * c.dHead, count: c.nLayers },
    { name: 'mlp_in', n: (c.gatedMlp ? 2 : 1) * c.dMlp, k: D, count: c.nLayers },
    { name: 'mlp_out', n: D, k: c.dMlp, count: c.nLayers },
    { name: 'unembed', n: c.vocabSize, k: D, count: 1 },
  ];
}

/** Useful attention FLOPs with a causal mask: QK^T and PV over the visible keys only. */
export function attentionFlops(c: ModelConfig, batch: number, seq: number): number {
  return c.nLayers * batch * c.nHeads * 2 * 2 * c.dHead * ((seq * (seq + 1)) / 2);
}

export function benchForward(name: string, config: ModelConfig, backend: Backend, batch: number, seq: number, reps: number) {
  const rows = batch * seq;
  const model = randomModel(config, 7, backend);
  const rng = new SeededRandom(3);
  const ids = new Int32Array(rows).map(() => Math.floor(rng.uniform() * config.vocabSize));
  const input = { ids, batch, seq };
  forward(model, { ids: ids.subarray(0, seq), batch: 1, seq }); // warm-up: page in weights, JIT
  const forwardMs = timeMedian(reps, () => forward(model, input));

  // Bare sgemm on exactly the same shapes and layouts (weights [out, in], transB), same threads.
  const gemms = weightGemms(config).map((g) => {
    const a = new Float32Array(rows * g.k).fill(0.01), b = new Float32Array(g.n * g.k).fill(0.01), c = new Float32Array(rows * g.n);
    const run = () => backend.gemm({ transA: false, transB: true, m: rows, n: g.n, k: g.k, a, b, c });
    run();
    const ms = timeMedian(reps, run);
    return { ...g, ms, gflops: (2 * rows * g.n * g.k) / ms / 1e6 };
  });
  const matmulFlops = gemms.reduce((s, g) => s + 2 * rows * g.n * g.k * g.count, 0);
  const bareMs = gemms.reduce((s, g) => s + g.ms * g.count, 0);
  const attn = attentionFlops(config, batch, seq);
  const forwardGflops = (matmulFlops + attn) / forwardMs / 1e6;
  const bareGflops = matmulFlops / bareMs / 1e6;
  return {
    model: name,
    batch,
    seq,
    tokens: rows,
    forwardMs: +forwardMs.toFixed(1),
    tokensPerSecond: +((rows / forwardMs) * 1000).toFixed(0),
    matmulGflop: +(matmulFlops / 1e9).toFixed(1),
    attentionGflop: +(attn / 1e9).toFixed(1),
    forwardEffectiveGflops: +forwardGflops.toFixed(1),
    bareSgemmMs: +bareMs.toFixed(1),
    bareSgemmGflops: +bareGflops.toFixed(1),
    /** forward effective GFLOP/s over bare-sgemm GFLOP/s (target >= 0.70). */
    ratioEffective: +(forwardGflops / bareGflops).toFixed(3),
    /** bare matmul time over forward time: the share of the forward that is weight matmuls. */
    ratioTime: +(bareMs / forwardMs).toFixed(3),
    gemms: gemms.map((g) => ({ name: g.name, m: rows, n: g.n, k: g.k, ms: +g.ms.toFixed(2), gflops: +g.gflops.toFixed(1) })),
  };
}
