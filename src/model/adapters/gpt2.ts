import type { Checkpoint } from '../../load/checkpoint.js';
import type { ModelConfig } from '../config.js';
import type { BlockParams, ModelParams } from '../params.js';
import { ConfigFields, type FamilyAdapter } from './types.js';

/** GPT-2: learned positions, LayerNorm, Conv1D weights stored [in, out], fused c_attn [q|k|v]. */
export const gpt2Adapter: FamilyAdapter = {
  family: 'gpt2',
  modelTypes: ['gpt2'],

  parseConfig(raw, file): ModelConfig {
    const f = new ConfigFields(raw, file);
    const D = f.size(['n_embd', 'hidden_size']);
    const H = f.size(['n_head', 'num_attention_heads']);
    f.check(H > 0 && D % H === 0, `n_embd (${D}) must be divisible by n_head (${H})`);
    f.check(!f.bool('scale_attn_by_inverse_layer_idx', false), "'scale_attn_by_inverse_layer_idx: true' is not supported");
    const vocabSize = f.size('vocab_size');
    return {
      family: 'gpt2',
      modelType: f.str('model_type'),
      nLayers: f.size(['n_layer', 'num_hidden_layers']),
      dModel: D,
      nHeads: H,
      nKvHeads: H,
      dHead: D / H,
      dMlp: f.size('n_inner', 4 * D),
      vocabSize,
      nCtx: f.size(['n_positions', 'n_ctx', 'max_position_embeddings']),
      norm: 'layernorm',
      normEps: f.positive('layer_norm_epsilon', 1e-5),
      positional: 'learned',
      block: 'sequential',
      gatedMlp: false,
      act: f.activation('activation_function', 'gelu_new'),
      attnBias: true,
      attnOutBias: true,
      mlpBias: true,
      unembedBias: false,
      tiedEmbeddings: f.bool('tie_word_embeddings', true),
      bosTokenId: f.tokenId('bos_token_id', vocabSize) ?? gpt2DefaultId(vocabSize),
      eosTokenId: f.tokenId('eos_token_id', vocabSize) ?? gpt2DefaultId(vocabSize),
    };
  },

  loadParams(ck: Checkpoint, c: ModelConfig): ModelParams {
    // Hub checkpoints use 'transformer.h.0...'; the original OpenAI conversion has no prefix.
    const p = ck.has('transformer.wte.weight') ? 'transformer.' : '';
    const D = c.dModel, F = c.dMlp;
    const vec = (name: string, n: number) => ck.read(p + name, [n]);
    const blocks: BlockParams[] = [];
    for (let i = 0; i < c.nLayers; i++) {
      const h = `h.${i}.`;
      blocks.push(ck.finishBlock({
        ln1: { w: vec(h + 'ln_1.weight', D), b: vec(h + 'ln_1.bias', D) },
        ln2: { w: vec(h + 'ln_2.weight', D), b: vec(h + 'ln_2.bias', D) },
        qkv: { w: ck.matrix(p + h + 'attn.c_attn.weight', [D, 3 * D]), layout: 'in_out', inDim: D, outDim: 3 * D, b: vec(h + 'attn.c_attn.bias', 3 * D) },
        o: { w: ck.matrix(p + h + 'attn.c_proj.weight', [D, D]), layout: 'in_out', inDim: D, outDim: D, b: vec(h + 'attn.c_proj.bias', D) },
        mlpIn: { w: ck.matrix(p + h + 'mlp.c_fc.weight', [D, F]), layout: 'in_out', inDim: D, outDim: F, b: vec(h + 'mlp.c_fc.bias', F) },
        mlpOut: { w: ck.matrix(p + h + 'mlp.c_proj.weight', [F, D]), layout: 'in_out', inDim: F, outDim: D, b: vec(h + 'mlp.c_proj.bias', D) },
      }));
    }
    const W_E = ck.matrix(p + 'wte.weight', [c.vocabSize, D]);
    const untied = !c.tiedEmbeddings && ck.has('lm_head.weight');
    return {
      W_E,
      W_pos: ck.read(p + 'wpe.weight', [c.nCtx, D]),
      blocks,
      lnFinal: { w: vec('ln_f.weight', D), b: vec('ln_f.bias', D) },
      W_U: untied ? ck.matrix('lm_head.weight', [c.vocabSize, D]) : W_E,
    };
  },
};

/** GPT-2's <|endoftext|> (50256) doubles as BOS/EOS when config.json names none, if the vocabulary has it. */
function gpt2DefaultId(vocabSize: number): number | undefined {
  return vocabSize > 50256 ? 50256 : undefined;
}
