import type { Checkpoint } from '../../load/checkpoint.js';
import type { ModelConfig } from '../config.js';
import type { WeightData } from '../../backend/backend.js';
import type { BlockParams, Linear, ModelParams } from '../params.js';
import { ConfigFields, headGeometry, parseRopeScaling, type FamilyAdapter } from './types.js';

/**
 * The Llama family: Llama 2/3 (incl. llama3 rope scaling), Mistral, Qwen2. RMSNorm, rotary over the full
 * head, SwiGLU, GQA. Differences are biases (Qwen2 q/k/v; Llama's attention_bias, mlp_bias) and tying.
 */
export const llamaAdapter: FamilyAdapter = {
  family: 'llama',
  modelTypes: ['llama', 'mistral', 'qwen2'],

  parseConfig(raw, file): ModelConfig {
    const f = new ConfigFields(raw, file);
    const modelType = f.str('model_type');
    const { D, H, Hkv, dHead } = headGeometry(f, { gqa: true, explicitHeadDim: true });
    const isQwen = modelType === 'qwen2';
    const attnBias = isQwen || f.bool('attention_bias', false);
    const window = modelType === 'mistral' || f.bool('use_sliding_window', false) ? f.int('sliding_window', 0) : 0;
    const vocabSize = f.size('vocab_size');
    const act = f.activation('hidden_act', 'silu');
    // The gated MLP kernel is SwiGLU: another activation would otherwise fail only at the first forward.
    f.check(act === 'silu', `field 'hidden_act' must be silu (or swish) for this gated-MLP family, got ${JSON.stringify(raw.hidden_act)}`);
    return {
      family: 'llama',
      modelType,
      nLayers: f.size('num_hidden_layers'),
      dModel: D,
      nHeads: H,
      nKvHeads: Hkv,
      dHead,
      dMlp: f.size('intermediate_size'),
      vocabSize,
      nCtx: f.size('max_position_embeddings'),
      norm: 'rmsnorm',
      normEps: f.positive('rms_norm_eps', 1e-6),
      positional: 'rotary',
      rope: { dims: dHead, theta: f.positive('rope_theta', 10000), scaling: parseRopeScaling(f) },
      block: 'sequential',
      gatedMlp: true,
      act,
      attnBias,
      // Llama's attention_bias also covers o_proj; Qwen2 has biases on q/k/v only.
      attnOutBias: !isQwen && attnBias,
      mlpBias: f.bool('mlp_bias', false),
      unembedBias: false,
      tiedEmbeddings: f.bool('tie_word_embeddings', false),
      slidingWindow: window > 0 ? window : undefined,
      bosTokenId: f.tokenId('bos_token_id', vocabSize),
      eosTokenId: f.tokenId('eos_token_id', vocabSize),
    };
  },

  loadParams(ck: Checkpoint, c: ModelConfig): ModelParams {
    const D = c.dModel, F = c.dMlp, qDim = c.nHeads * c.dHead, kvDim = c.nKvHeads * c.dHead;
    const blocks: BlockParams[] = [];
    for (let i = 0; i < c.nLayers; i++) {
      const l = `model.layers.${i}.`;
      // q, k and v are read into one fused [q|k|v, D] matrix: one matmul per layer instead of three.
      // Shapes are checked before the fused buffers are allocated (a wrong config must not allocate first):
      // stacked() checks its parts; gate_proj is checked before q|k|v is allocated too.
      ck.checkShape(l + 'mlp.gate_proj.weight', [F, D]);
      const qkvW = ck.stacked([[l + 'self_attn.q_proj.weight', [qDim, D]], [l + 'self_attn.k_proj.weight', [kvDim, D]], [l + 'self_attn.v_proj.weight', [kvDim, D]]]);
      let qkvB: Float32Array | undefined;
      if (c.attnBias) {
        qkvB = new Float32Array(qDim + 2 * kvDim);
        ck.readInto(l + 'self_attn.q_proj.bias', qkvB.subarray(0, qDim), [qDim]);
        ck.readInto(l + 'self_attn.k_proj.bias', qkvB.subarray(qDim, qDim + kvDim), [kvDim]);
        ck.readInto(l + 'self_attn.v_proj.bias', qkvB.subarray(qDim + kvDim), [kvDim]);
      }
      const gateUp = ck.stacked([[l + 'mlp.gate_proj.weight', [F, D]], [l + 'mlp.up_proj.weight', [F, D]]]);
      let gateUpB: Float32Array | undefined;
      if (c.mlpBias) {
        gateUpB = new Float32Array(2 * F);
        ck.readInto(l + 'mlp.gate_proj.bias', gateUpB.subarray(0, F), [F]);
        ck.readInto(l + 'mlp.up_proj.bias', gateUpB.subarray(F), [F]);
      }
      const linear = (w: WeightData, inDim: number, outDim: number, b?: Float32Array): Linear => ({ w, layout: 'out_in', inDim, outDim, b });
      blocks.push(ck.finishBlock({
        ln1: { w: ck.read(l + 'input_layernorm.weight', [D]) },
        ln2: { w: ck.read(l + 'post_attention_layernorm.weight', [D]) },
        qkv: linear(qkvW, D, qDim + 2 * kvDim, qkvB),
        o: linear(ck.matrix(l + 'self_attn.o_proj.weight', [D, qDim]), qDim, D, c.attnOutBias ? ck.read(l + 'self_attn.o_proj.bias', [D]) : undefined),
        mlpIn: linear(gateUp, D, 2 * F, gateUpB),
        mlpOut: linear(ck.matrix(l + 'mlp.down_proj.weight', [D, F]), F, D, c.mlpBias ? ck.read(l + 'mlp.down_proj.bias', [D]) : undefined),
      }));
    }
    const W_E = ck.matrix('model.embed_tokens.weight', [c.vocabSize, D]);
    return {
      W_E,
      blocks,
      lnFinal: { w: ck.read('model.norm.weight', [D]) },
      W_U: c.tiedEmbeddings ? W_E : ck.matrix('lm_head.weight', [c.vocabSize, D]),
    };
  },
};
