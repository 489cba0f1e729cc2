/**
 * The canonical description of a decoder-only transformer: every family adapter turns its config.json
 * into this, and the forward pass reads nothing else. Architecture differences are flags, not code paths
 * per family.
 */
export type NormKind = 'layernorm' | 'rmsnorm';
export type Activation = 'gelu_new' | 'gelu' | 'silu' | 'relu';
/**
 * sequential: x + attn(n1(x)) then + mlp(n2(.))       (GPT-2, Llama, NeoX with use_parallel_residual=false)
 * parallel:   x + attn(n1(x)) + mlp(n2(x))             (GPT-NeoX/Pythia)
 * parallel_shared_norm: h = n1(x); x + attn(h) + mlp(h) (Phi)
 */
export type BlockLayout = 'sequential' | 'parallel' | 'parallel_shared_norm';

export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}
export interface LinearRopeScaling {
  type: 'linear';
  factor: number;
}

export interface RopeConfig {
  /** Rotated dimensions per head (<= headDim; the rest pass through). */
  dims: number;
  theta: number;
  scaling?: Llama3RopeScaling | LinearRopeScaling;
}

export interface ModelConfig {
  /** Adapter that produced it: 'gpt2' | 'llama' | 'gpt_neox' | 'phi'. */
  family: string;
  /** config.json's model_type. */
  modelType: string;
  nLayers: number;
  dModel: number;
  nHeads: number;
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  vocabSize: number;
  /** Longest context the model was trained for. */
  nCtx: number;
  norm: NormKind;
  normEps: number;
  positional: 'learned' | 'rotary';
  rope?: RopeConfig;
  block: BlockLayout;
  /** Gated MLP (SwiGLU): W_in rows are [gate | up]. */
  gatedMlp: boolean;
  act: Activation;
  attnBias: boolean;
  attnOutBias: boolean;
  mlpBias: boolean;
  unembedBias: boolean;
  tiedEmbeddings: boolean;
  /** Attention masks keys further back than this many positions (Mistral); undefined = none. */
  slidingWindow?: number;
  bosTokenId?: number;
  eosTokenId?: number;
}

/** Parameter count implied by a config (what inspect prints and memory checks use). */
export function parameterCount(c: ModelConfig): number {
  const D = c.dModel, qkv = (c.nHeads + 2 * c.nKvHeads) * c.dHead;
  const normParams = c.norm === 'layernorm' ? 2 * D : D;
  const perBlock = qkv * D + (c.attnBias ? qkv : 0) + c.nHeads * c.dHead * D + (c.attnOutBias ? D : 0)
    + (c.gatedMlp ? 2 : 1) * c.dMlp * D + (c.mlpBias ? (c.gatedMlp ? 2 : 1) * c.dMlp + D : 0) + c.dMlp * D
    + (c.block === 'parallel_shared_norm' ? 1 : 2) * normParams;
  const embed = c.vocabSize * D + (c.positional === 'learned' ? c.nCtx * D : 0);
  const unembed = c.tiedEmbeddings ? 0 : c.vocabSize * D;
  return embed + c.nLayers * perBlock + normParams + unembed + (c.unembedBias ? c.vocabSize : 0);
}
