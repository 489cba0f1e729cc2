import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { isMapped } from '../../src/load/mmap.js';
import { f32ToBf16 } from '../../src/load/dtype.js';
import { processModelWeights } from '../../src/analyses/weight-processing.js';
import { openGolden } from '../helpers/golden.js';

const bits = (w: Float32Array) => { const b = new Uint16Array(w.length); f32ToBf16(w, b); return b; };

test('f32 weights stored F32 are views into the memory-mapped checkpoint, not copies; results equal a read-based load', () => {
  const g = openGolden('gpt2');
  const mapped = loadModelDir(g.dir);
  const b0 = mapped.params.blocks[0];
  for (const w of [b0.qkv.w, b0.o.w, b0.mlpIn.w, b0.mlpOut.w, mapped.params.W_E]) {
    assert.ok(w instanceof Float32Array);
    assert.ok(isMapped(w), 'a matrix was copied');
  }
  const saved = process.env.LAYERLAB_MMAP;
  process.env.LAYERLAB_MMAP = '0';
  try {
    const read = loadModelDir(g.dir);
    assert.ok(!isMapped(read.params.blocks[0].qkv.w));
    const ids = g.expected.input_ids;
    assert.deepEqual(forward(mapped, ids).logits!.data, forward(read, ids).logits!.data);
  } finally {
    if (saved === undefined) delete process.env.LAYERLAB_MMAP; else process.env.LAYERLAB_MMAP = saved;
  }
});

test('a write into a mapped weight stays in this process: the file on disk is unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'layerlab-mmap-'));
  try {
    cpSync(openGolden('gpt2').dir, dir, { recursive: true });
    const before = readFileSync(join(dir, 'model.safetensors'));
    const m = loadModelDir(dir);
    (m.params.blocks[0].o.w as Float32Array).fill(123);
    assert.equal((m.params.blocks[0].o.w as Float32Array)[0], 123);
    assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(before));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bf16 model exposes the rounded weights it computes with: fused, regrouped and tied matrices alike', () => {
  for (const name of ['gpt2', 'llama', 'gpt_neox', 'llama_tied_bf16']) {
    const dir = openGolden(name).dir;
    const f32 = loadModelDir(dir), bf16 = loadModelDir(dir, {}, undefined, { dtype: 'bf16' });
    const a = f32.params.blocks[1], b = bf16.params.blocks[1];
    for (const k of ['qkv', 'o', 'mlpIn', 'mlpOut'] as const) {
      const w = b[k].w;
      assert.ok(w instanceof Uint16Array, `${name} ${k}`);
      assert.deepEqual(Array.from(w), Array.from(bits(a[k].w as Float32Array)), `${name} ${k}`);
    }
    assert.deepEqual(Array.from(bf16.params.W_U as Uint16Array), Array.from(bits(f32.params.W_U as Float32Array)), `${name} W_U`);
  }
});

test('weight processing (TransformerLens folding) runs on a bf16 model and reads its bf16 weights', () => {
  const g = openGolden('gpt2');
  const bf16 = loadModelDir(g.dir, {}, undefined, { dtype: 'bf16' });
  const processed = { ...bf16, params: processModelWeights(bf16) };
  const a = forward(bf16, g.expected.input_ids).logits!.data, b = forward(processed, g.expected.input_ids).logits!.data;
  // Folding changes logits by a per-position constant only, up to bf16 rounding of the folded weights.
  let worst = 0;
  const V = bf16.config.vocabSize;
  for (let r = 0; r < a.length / V; r++) {
    let shift = 0;
    for (let v = 0; v < V; v++) shift += (b[r * V + v] - a[r * V + v]) / V;
    for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(b[r * V + v] - a[r * V + v] - shift));
  }
  const scale = Math.max(...a.map(Math.abs));
  // Folded weights are rounded to bf16 again: within the bf16 tolerance of golden-bf16.test.ts (6% of scale).
  assert.ok(worst < 0.06 * scale, `processed bf16 logits differ by ${worst} beyond a constant (scale ${scale})`);
});
