import type { Checkpoint } from '../../load/checkpoint.js';
import type { ModelConfig } from '../config.js';
import type { WeightData } from '../../backend/backend.js';
import type { BlockParams, Linear, ModelParams } from '../params.js';
import { ropeScalingNoneOrLinear } from './gpt-neox.js';
import { ConfigFields, headGeometry, partialRotaryDims, type FamilyAdapter } from './types.js';

/**
 * Phi-1, Phi-1.5 and Phi-2 in the transformers format (PhiForCausalLM): one input_layernorm feeding both
 * attention and MLP (parallel_shared_norm), partial rotary (partial_rotary_factor), separate q/k/v
 * projections with biases (fused at load), `dense` out-projection, gelu_new MLP fc1/fc2, final_layernorm
 * and an lm_head with bias.
 */
export const phiAdapter: FamilyAdapter = {
  family: 'phi',
  modelTypes: ['phi'],

  parseConfig(raw, file): ModelConfig {
    const f = new ConfigFields(raw, file);
    const { D, H, Hkv, dHead } = headGeometry(f, { gqa: true });
    f.check(!f.bool('qk_layernorm', false), "'qk_layernorm: true' is not supported (LayerNorm on queries and keys)");
    const rd = partialRotaryDims(f, ['partial_rotary_factor'], 0.5, dHead);
    const vocabSize = f.size('vocab_size');
    return {
      family: 'phi',
      modelType: f.str('model_type'),
      nLayers: f.size('num_hidden_layers'),
      dModel: D,
      nHeads: H,
      nKvHeads: Hkv,
      dHead,
      dMlp: f.size('intermediate_size'),
      vocabSize,
      nCtx: f.size('max_position_embeddings'),
      norm: 'layernorm',
      normEps: f.positive('layer_norm_eps', 1e-5),
      positional: 'rotary',
      rope: { dims: rd, theta: f.positive('rope_theta', 10000), scaling: ropeScalingNoneOrLinear(f) },
      block: 'parallel_shared_norm',
      gatedMlp: false,
      act: f.activation('hidden_act', 'gelu_new'),
      attnBias: true,
      attnOutBias: true,
      mlpBias: true,
      unembedBias: true,
      tiedEmbeddings: f.bool('tie_word_embeddings', false),
      bosTokenId: f.tokenId('bos_token_id', vocabSize),
      eosTokenId: f.tokenId('eos_token_id', vocabSize),
    };
  },

  loadParams(ck: Checkpoint, c: ModelConfig): ModelParams {
    const D = c.dModel, F = c.dMlp, qDim = c.nHeads * c.dHead, kvDim = c.nKvHeads * c.dHead, qkvDim = qDim + 2 * kvDim;
    const linear = (w: WeightData, inDim: number, outDim: number, b?: Float32Array): Linear => ({ w, layout: 'out_in', inDim, outDim, b });
    const blocks: BlockParams[] = [];
    for (let i = 0; i < c.nLayers; i++) {
      const l = `model.layers.${i}.`;
      // q, k and v are read into one fused [q|k|v, D] matrix (and bias); stacked() checks their shapes first.
      const qkvW = ck.stacked([[l + 'self_attn.q_proj.weight', [qDim, D]], [l + 'self_attn.k_proj.weight', [kvDim, D]], [l + 'self_attn.v_proj.weight', [kvDim, D]]]);
      const qkvB = new Float32Array(qkvDim);
      ck.readInto(l + 'self_attn.q_proj.bias', qkvB.subarray(0, qDim), [qDim]);
      ck.readInto(l + 'self_attn.k_proj.bias', qkvB.subarray(qDim, qDim + kvDim), [kvDim]);
      ck.readInto(l + 'self_attn.v_proj.bias', qkvB.subarray(qDim + kvDim), [kvDim]);
      blocks.push(ck.finishBlock({
        ln1: { w: ck.read(l + 'input_layernorm.weight', [D]), b: ck.read(l + 'input_layernorm.bias', [D]) },
        qkv: linear(qkvW, D, qkvDim, qkvB),
        o: linear(ck.matrix(l + 'self_attn.dense.weight', [D, qDim]), qDim, D, ck.read(l + 'self_attn.dense.bias', [D])),
        mlpIn: linear(ck.matrix(l + 'mlp.fc1.weight', [F, D]), D, F, ck.read(l + 'mlp.fc1.bias', [F])),
        mlpOut: linear(ck.matrix(l + 'mlp.fc2.weight', [D, F]), F, D, ck.read(l + 'mlp.fc2.bias', [D])),
      }));
    }
    const W_E = ck.matrix('model.embed_tokens.weight', [c.vocabSize, D]);
    const V = c.vocabSize;
    return {
      W_E,
      blocks,
      lnFinal: { w: ck.read('model.final_layernorm.weight', [D]), b: ck.read('model.final_layernorm.bias', [D]) },
      W_U: c.tiedEmbeddings ? W_E : ck.matrix('lm_head.weight', [V, D]),
      // PhiForCausalLM's lm_head always has a bias, tied weight or not.
      b_U: ck.read('lm_head.bias', [V]),
    };
  },
};
