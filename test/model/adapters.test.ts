import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadModelDir } from '../../src/model/model.js';
import { LayerlabError } from '../../src/util/errors.js';
import { fixturePath } from '../helpers/shared.js';

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A temp copy of a golden fixture (config.json + model.safetensors) whose config.json is edited by `edit`
 * (set a key to undefined to delete it).
 */
function fixtureCopy(name: string, edit: Record<string, unknown>): string {
  const src = fixturePath('golden', name);
  const dir = mkdtempSync(join(tmpdir(), `layerlab-adapter-${name}-`));
  tempDirs.push(dir);
  const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(edit)) {
    if (v === undefined) delete cfg[k];
    else cfg[k] = v;
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
  copyFileSync(join(src, 'model.safetensors'), join(dir, 'model.safetensors'));
  return dir;
}

/** Asserts loadModelDir(dir) throws a LayerlabError whose message contains every one of `parts`. */
function assertLoadError(dir: string, parts: string[]): void {
  assert.throws(
    () => loadModelDir(dir),
    (e: unknown) => {
      assert.ok(e instanceof LayerlabError, `expected a LayerlabError, got ${String(e)}`);
      for (const p of parts) assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(p)}`);
      return true;
    },
  );
}

test('gpt_neox: a missing required field names the field and config.json', () => {
  const dir = fixtureCopy('gpt_neox', { num_hidden_layers: undefined });
  assertLoadError(dir, ["'num_hidden_layers'", 'missing', join(dir, 'config.json')]);
});

test('phi: a missing required field names the field and config.json', () => {
  const dir = fixtureCopy('phi', { intermediate_size: undefined });
  assertLoadError(dir, ["'intermediate_size'", 'missing', join(dir, 'config.json')]);
});

test('gpt_neox: rotary_pct giving an odd number of rotary dims is rejected', () => {
  // head_dim 16 · 0.1875 = 3 rotary dims
  const dir = fixtureCopy('gpt_neox', { rotary_pct: 0.1875 });
  assertLoadError(dir, ['rotary_pct', '3 rotary dimensions', 'even', join(dir, 'config.json')]);
});

test('phi: partial_rotary_factor giving an odd number of rotary dims is rejected', () => {
  const dir = fixtureCopy('phi', { partial_rotary_factor: 0.3125 }); // 16 · 0.3125 = 5
  assertLoadError(dir, ['partial_rotary_factor', '5 rotary dimensions', join(dir, 'config.json')]);
});

test('phi: qk_layernorm true is not supported', () => {
  const dir = fixtureCopy('phi', { qk_layernorm: true });
  assertLoadError(dir, ['qk_layernorm', 'not supported', join(dir, 'config.json')]);
});

test('gpt_neox and phi: rope_scaling types other than none/linear are rejected', () => {
  for (const name of ['gpt_neox', 'phi']) {
    const dir = fixtureCopy(name, { rope_scaling: { type: 'dynamic', factor: 2 } });
    assertLoadError(dir, ["rope_scaling type 'dynamic'", 'not supported', join(dir, 'config.json')]);
  }
  const linear = loadConfig(fixtureCopy('gpt_neox', { rope_scaling: { type: 'linear', factor: 2 } }));
  assert.deepEqual(linear.rope?.scaling, { type: 'linear', factor: 2 });
});

test('gpt_neox: a tensor shape that disagrees with the config names the tensor, both shapes and the file', () => {
  const dir = fixtureCopy('gpt_neox', { intermediate_size: 255 });
  assertLoadError(dir, [
    "'gpt_neox.layers.0.mlp.dense_h_to_4h.weight'", '[256,64]', '[255,64]', join(dir, 'model.safetensors'),
  ]);
});

test('phi: a tensor shape that disagrees with the config names the tensor, both shapes and the file', () => {
  const dir = fixtureCopy('phi', { intermediate_size: 100 });
  assertLoadError(dir, ["'model.layers.0.mlp.fc1.weight'", '[128,64]', '[100,64]', join(dir, 'model.safetensors')]);
  // q/k/v are read into a fused buffer; their shape is checked too (fewer kv heads than stored).
  const gqa = fixtureCopy('phi', { num_key_value_heads: 2 });
  assertLoadError(gqa, ["'model.layers.0.self_attn.k_proj.weight'", '[64,64]', '[32,64]', join(gqa, 'model.safetensors')]);
});

test('gpt_neox: config flags map to the canonical config', () => {
  const par = loadConfig(fixturePath('golden', 'gpt_neox'));
  assert.equal(par.block, 'parallel');
  assert.deepEqual(par.rope, { dims: 4, theta: 10000, scaling: undefined });
  assert.equal(par.act, 'gelu');
  assert.equal(par.attnBias, true);
  assert.equal(par.tiedEmbeddings, false);
  const seq = loadConfig(fixturePath('golden', 'gpt_neox_sequential'));
  assert.equal(seq.block, 'sequential');
  assert.equal(seq.rope?.dims, 4);
  // Newer configs spell the rotary base rope_theta.
  const renamed = loadConfig(fixtureCopy('gpt_neox', { rotary_emb_base: undefined, rope_theta: 5000 }));
  assert.equal(renamed.rope?.theta, 5000);
});

test('gpt_neox: tie_word_embeddings true uses the input embedding as W_U', () => {
  const m = loadModelDir(fixtureCopy('gpt_neox', { tie_word_embeddings: true }));
  assert.equal(m.params.W_U, m.params.W_E);
});

test('gpt_neox: attention_bias false loads no attention biases', () => {
  const m = loadModelDir(fixtureCopy('gpt_neox', { attention_bias: false }));
  assert.equal(m.config.attnBias, false);
  assert.equal(m.params.blocks[0].qkv.b, undefined);
  assert.equal(m.params.blocks[0].o.b, undefined);
});

test('phi: num_key_value_heads absent means one kv head per query head; no ln2; lm_head bias', () => {
  const c = loadConfig(fixtureCopy('phi', { num_key_value_heads: undefined }));
  assert.equal(c.nKvHeads, c.nHeads);
  assert.equal(c.block, 'parallel_shared_norm');
  assert.deepEqual(c.rope, { dims: 8, theta: 10000, scaling: undefined });
  const m = loadModelDir(fixturePath('golden', 'phi'));
  assert.equal(m.params.blocks[0].ln2, undefined);
  assert.equal(m.params.b_U?.length, m.config.vocabSize);
});
