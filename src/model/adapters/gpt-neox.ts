import type { Checkpoint } from '../../load/checkpoint.js';
import type { ModelConfig, RopeConfig } from '../config.js';
import type { WeightData } from '../../backend/backend.js';
import type { BlockParams, Linear, ModelParams } from '../params.js';
import { ConfigFields, headGeometry, parseRopeScaling, partialRotaryDims, ropeScalingType, type FamilyAdapter } from './types.js';

/**
 * GPT-NeoX (Pythia, GPT-NeoX-20B): LayerNorm, partial rotary (rotary_pct of each head), parallel residual
 * (use_parallel_residual) or sequential, non-gated MLP with biases, untied embed_out. The fused
 * query_key_value rows are grouped per head ([q_h | k_h | v_h] for each head h) and are regrouped at load
 * into the canonical [q all heads | k all heads | v all heads] order.
 */
export const gptNeoxAdapter: FamilyAdapter = {
  family: 'gpt_neox',
  modelTypes: ['gpt_neox'],

  parseConfig(raw, file): ModelConfig {
    const f = new ConfigFields(raw, file);
    const { D, H, dHead } = headGeometry(f, { gqa: false });
    // Newer transformers versions spell these partial_rotary_factor / rope_theta.
    const rd = partialRotaryDims(f, ['rotary_pct', 'partial_rotary_factor'], 0.25, dHead);
    const scaling = ropeScalingNoneOrLinear(f);
    const attnBias = f.bool('attention_bias', true);
    const vocabSize = f.size('vocab_size');
    return {
      family: 'gpt_neox',
      modelType: f.str('model_type'),
      nLayers: f.size('num_hidden_layers'),
      dModel: D,
      nHeads: H,
      nKvHeads: H,
      dHead,
      dMlp: f.size('intermediate_size'),
      vocabSize,
      nCtx: f.size('max_position_embeddings'),
      norm: 'layernorm',
      normEps: f.positive('layer_norm_eps', 1e-5),
      positional: 'rotary',
      rope: { dims: rd, theta: f.positive(['rotary_emb_base', 'rope_theta'], 10000), scaling },
      block: f.bool('use_parallel_residual', true) ? 'parallel' : 'sequential',
      gatedMlp: false,
      act: f.activation('hidden_act', 'gelu'),
      attnBias,
      attnOutBias: attnBias,
      mlpBias: true,
      unembedBias: false,
      tiedEmbeddings: f.bool('tie_word_embeddings', false),
      bosTokenId: f.tokenId('bos_token_id', vocabSize),
      eosTokenId: f.tokenId('eos_token_id', vocabSize),
    };
  },

  loadParams(ck: Checkpoint, c: ModelConfig): ModelParams {
    const D = c.dModel, F = c.dMlp, H = c.nHeads, dh = c.dHead, qkvDim = 3 * H * dh;
    const linear = (w: WeightData, inDim: number, outDim: number, b?: Float32Array): Linear => ({ w, layout: 'out_in', inDim, outDim, b });
    const blocks: BlockParams[] = [];
    for (let i = 0; i < c.nLayers; i++) {
      const l = `gpt_neox.layers.${i}.`;
      const qkvW = regroupQkv(ck.matrix(l + 'attention.query_key_value.weight', [qkvDim, D]), H, dh, D);
      const qkvB = c.attnBias ? regroupQkv(ck.read(l + 'attention.query_key_value.bias', [qkvDim]), H, dh, 1) : undefined;
      blocks.push(ck.finishBlock({
        ln1: { w: ck.read(l + 'input_layernorm.weight', [D]), b: ck.read(l + 'input_layernorm.bias', [D]) },
        ln2: { w: ck.read(l + 'post_attention_layernorm.weight', [D]), b: ck.read(l + 'post_attention_layernorm.bias', [D]) },
        qkv: linear(qkvW, D, qkvDim, qkvB),
        o: linear(ck.matrix(l + 'attention.dense.weight', [D, H * dh]), H * dh, D, c.attnOutBias ? ck.read(l + 'attention.dense.bias', [D]) : undefined),
        mlpIn: linear(ck.matrix(l + 'mlp.dense_h_to_4h.weight', [F, D]), D, F, ck.read(l + 'mlp.dense_h_to_4h.bias', [F])),
        mlpOut: linear(ck.matrix(l + 'mlp.dense_4h_to_h.weight', [D, F]), F, D, ck.read(l + 'mlp.dense_4h_to_h.bias', [D])),
      }));
    }
    const W_E = ck.matrix('gpt_neox.embed_in.weight', [c.vocabSize, D]);
    return {
      W_E,
      blocks,
      lnFinal: { w: ck.read('gpt_neox.final_layer_norm.weight', [D]), b: ck.read('gpt_neox.final_layer_norm.bias', [D]) },
      W_U: c.tiedEmbeddings ? W_E : ck.matrix('embed_out.weight', [c.vocabSize, D]),
    };
  },
};

/** rope_scaling must be absent, default or linear (rotary tables have no other scaling for this family). */
export function ropeScalingNoneOrLinear(f: ConfigFields): RopeConfig['scaling'] {
  const type = ropeScalingType(f);
  f.check(type === undefined || type === 'default' || type === 'linear',
    `rope_scaling type '${String(type)}' is not supported for this model type (supported: none, linear)`);
  return parseRopeScaling(f);
}

/**
 * NeoX query_key_value rows are [head][q|k|v][d] (row = h·3·dh + part·dh + d), each row `width` wide
 * (D for the weight, 1 for the bias). Returns rows in canonical [part][head][d] order. The source array is
 * only referenced here, so it can be collected once this returns.
 */
function regroupQkv<T extends Float32Array | Uint16Array>(src: T, H: number, dh: number, width: number): T {
  const out = (src instanceof Uint16Array ? new Uint16Array(src.length) : new Float32Array(src.length)) as T;
  const block = dh * width;
  for (let h = 0; h < H; h++)
    for (let part = 0; part < 3; part++) {
      const from = (h * 3 + part) * block;
      (out as Float32Array).set((src as Float32Array).subarray(from, from + block), (part * H + h) * block);
    }
  return out;
}
