import { getBackend, type Backend, type WeightDtype } from '../backend/index.js';
import { f32ToBf16 } from '../load/dtype.js';
import { packBlock, packWeights } from './weights.js';
import type { ModelConfig } from './config.js';
import type { Model } from './model.js';
import type { BlockParams, Linear, ModelParams } from './params.js';

/** Deterministic xorshift-based normal samples (Box-Muller); fast enough for billions of weights. */
export class SeededRandom {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  uniform(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return (this.s + 0.5) / 4294967296;
  }
  fillNormal(a: Float32Array, std: number): Float32Array {
    for (let i = 0; i < a.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(this.uniform())) * std, t = 2 * Math.PI * this.uniform();
      a[i] = r * Math.cos(t);
      if (i + 1 < a.length) a[i + 1] = r * Math.sin(t);
    }
    return a;
  }
}

/** Shapes of the benchmark models (random weights, real layouts). */
export function gpt2SmallConfig(): ModelConfig {
  return {
    family: 'gpt2', modelType: 'gpt2', nLayers: 12, dModel: 768, nHeads: 12, nKvHeads: 12, dHead: 64, dMlp: 3072, vocabSize: 50257,
    nCtx: 1024, norm: 'layernorm', normEps: 1e-5, positional: 'learned', block: 'sequential', gatedMlp: false, act: 'gelu_new',
    attnBias: true, attnOutBias: true, mlpBias: true, unembedBias: false, tiedEmbeddings: true, bosTokenId: 50256, eosTokenId: 50256,
  };
}

export function llama1BConfig(): ModelConfig {
  return {
    family: 'llama', modelType: 'llama', nLayers: 16, dModel: 2048, nHeads: 32, nKvHeads: 8, dHead: 64, dMlp: 8192, vocabSize: 128256,
    nCtx: 131072, norm: 'rmsnorm', normEps: 1e-5, positional: 'rotary',
    rope: { dims: 64, theta: 500000, scaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 } },
    block: 'sequential', gatedMlp: true, act: 'silu', attnBias: false, attnOutBias: false, mlpBias: false, unembedBias: false,
    tiedEmbeddings: true, bosTokenId: 128000, eosTokenId: 128001,
  };
}

/**
 * A model with N(0, 0.02) weights and unit norms, in memory (no checkpoint); bf16 packs the matrices.
 * bf16 draws the same values, keeps each block matrix as bf16 from the start and packs block by block, so
 * a Llama-1B-sized bf16 model never holds its matrices in f32 (the token embedding stays f32).
 */
export function randomModel(config: ModelConfig, seed = 1, backend: Backend = getBackend(), dtype: WeightDtype = 'f32'): Model {
  const rng = new SeededRandom(seed);
  const c = config, D = c.dModel;
  const vec = (n: number, v: number) => new Float32Array(n).fill(v);
  const matrix = (n: number) => {
    const f = rng.fillNormal(new Float32Array(n), 0.02);
    if (dtype === 'f32') return f;
    const bits = new Uint16Array(n);
    f32ToBf16(f, bits);
    return bits;
  };
  const lin = (inDim: number, outDim: number, bias: boolean): Linear => ({
    w: matrix(inDim * outDim), layout: 'out_in', inDim, outDim, b: bias ? rng.fillNormal(new Float32Array(outDim), 0.02) : undefined,
  });
  const owner = { params: { blocks: [] } as unknown as ModelParams, backend, config: c, dtype };
  const norm = () => ({ w: vec(D, 1), b: c.norm === 'layernorm' ? vec(D, 0) : undefined });
  const blocks: BlockParams[] = [];
  for (let l = 0; l < c.nLayers; l++)
    blocks.push(packBlock(owner, {
      ln1: norm(),
      ln2: c.block === 'parallel_shared_norm' ? undefined : norm(),
      qkv: lin(D, (c.nHeads + 2 * c.nKvHeads) * c.dHead, c.attnBias),
      o: lin(c.nHeads * c.dHead, D, c.attnOutBias),
      mlpIn: lin(D, (c.gatedMlp ? 2 : 1) * c.dMlp, c.mlpBias),
      mlpOut: lin(c.dMlp, D, c.mlpBias),
    }));
  const W_E = rng.fillNormal(new Float32Array(c.vocabSize * D), 0.02);
  const params: ModelParams = {
    W_E,
    W_pos: c.positional === 'learned' ? rng.fillNormal(new Float32Array(c.nCtx * D), 0.01) : undefined,
    blocks,
    lnFinal: norm(),
    W_U: c.tiedEmbeddings ? W_E : rng.fillNormal(new Float32Array(c.vocabSize * D), 0.02),
    b_U: c.unembedBias ? vec(c.vocabSize, 0) : undefined,
  };
  const model: Model = {
    config, params, backend, dtype, dtypeDecision: { dtype, reason: 'requested' },
    source: { dir: `(random ${c.modelType}, seed ${seed})`, storedDtypes: ['F32'] },
  };
  packWeights(model);
  return model;
}
