import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from './random.js';
import { f32ToBf16 } from '../load/dtype.js';

export interface Gpt2Shape {
  nLayers: number;
  dModel: number;
  nHeads: number;
  vocabSize: number;
  nCtx: number;
}

export const GPT2_MEDIUM: Gpt2Shape = { nLayers: 24, dModel: 1024, nHeads: 16, vocabSize: 50257, nCtx: 1024 };

/** HF tensor names and shapes of a GPT-2 checkpoint (tied embeddings, Conv1D layouts). */
export function gpt2Tensors(s: Gpt2Shape): Array<[string, number[]]> {
  const D = s.dModel, F = 4 * D;
  const list: Array<[string, number[]]> = [['transformer.wte.weight', [s.vocabSize, D]], ['transformer.wpe.weight', [s.nCtx, D]]];
  for (let i = 0; i < s.nLayers; i++) {
    const h = `transformer.h.${i}.`;
    list.push(
      [h + 'ln_1.weight', [D]], [h + 'ln_1.bias', [D]], [h + 'attn.c_attn.weight', [D, 3 * D]], [h + 'attn.c_attn.bias', [3 * D]],
      [h + 'attn.c_proj.weight', [D, D]], [h + 'attn.c_proj.bias', [D]], [h + 'ln_2.weight', [D]], [h + 'ln_2.bias', [D]],
      [h + 'mlp.c_fc.weight', [D, F]], [h + 'mlp.c_fc.bias', [F]], [h + 'mlp.c_proj.weight', [F, D]], [h + 'mlp.c_proj.bias', [D]],
    );
  }
  list.push(['transformer.ln_f.weight', [D]], ['transformer.ln_f.bias', [D]]);
  return list;
}

/**
 * Writes a GPT-2 model folder with random F32 (or BF16: the same values rounded) weights (norm weights 1,
 * biases 0), one tensor at a time so memory stays small. `sparse` writes only the header and leaves the data as a hole in the file: the
 * folder then looks like a real (huge) checkpoint without using disk, for load-limit tests.
 */
export function writeRandomGpt2(dir: string, s: Gpt2Shape, opts: { seed?: number; sparse?: boolean; dtype?: 'F32' | 'BF16' } = {}): { f32Bytes: number; storedBytes: number } {
  const dtype = opts.dtype ?? 'F32', size = dtype === 'F32' ? 4 : 2;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_layer: s.nLayers, n_embd: s.dModel, n_head: s.nHeads, n_inner: null,
    vocab_size: s.vocabSize, n_positions: s.nCtx, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', bos_token_id: 50256, eos_token_id: 50256,
  }, null, 2));
  const tensors = gpt2Tensors(s);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * size;
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, Buffer.from(json));
    if (opts.sparse) {
      ftruncateSync(fd, 8 + Buffer.byteLength(json) + offset);
    } else {
      const rng = new SeededRandom(opts.seed ?? 1);
      for (const [name, shape] of tensors) {
        const n = shape.reduce((a, b) => a * b, 1);
        const a = /ln_.*weight/.test(name) ? new Float32Array(n).fill(1) : /bias/.test(name) ? new Float32Array(n) : rng.fillNormal(new Float32Array(n), 0.02);
        let buf = new Uint8Array(a.buffer);
        if (dtype === 'BF16') {
          const bits = new Uint16Array(n);
          f32ToBf16(a, bits);
          buf = new Uint8Array(bits.buffer);
        }
        for (let o = 0; o < buf.length; o += 1 << 28) writeSync(fd, buf, o, Math.min(1 << 28, buf.length - o));
      }
    }
  } finally {
    closeSync(fd);
  }
  return { f32Bytes: (offset / size) * 4, storedBytes: offset };
}
