// Guarantee 5: no silent non-finite numbers. Physically meaningless config values are rejected at load
// with config.json and the field named; NaN/Inf weights are rejected at load with the tensor named; a
// non-finite activation stops the forward pass at the first hook where it appeared.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelDir } from '../../src/model/model.js';
import { getBackend } from '../../src/backend/index.js';
import { forward } from '../../src/model/forward.js';
import { greedyGenerate } from '../../src/model/generate.js';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import { LayerlabError } from '../../src/util/errors.js';
import { assertCliUserError, copyFixture, runCli, tempRoot, throwsNaming, tinyTokenizerJson, writeJson } from './loaders-helpers.js';

const root = tempRoot(after, 'nonfinite');
const ids = [[1, 5, 9, 3, 7, 11]];

function withConfig(fixture: string, edit: (c: Record<string, unknown>) => void, as: string): string {
  const dir = copyFixture(root, fixture, as);
  const file = join(dir, 'config.json');
  const c = JSON.parse(readFileSync(file, 'utf8'));
  edit(c);
  writeFileSync(file, JSON.stringify(c));
  return dir;
}

test('norm epsilon <= 0 or non-finite is rejected at load, naming config.json and the field (every family)', () => {
  const cases: [string, string][] = [['gpt2', 'layer_norm_epsilon'], ['llama', 'rms_norm_eps'], ['gpt_neox', 'layer_norm_eps'], ['phi', 'layer_norm_eps']];
  for (const [fixture, field] of cases)
    for (const bad of [-1e-5, 0, '1e-5', 'INF']) {
      const dir = withConfig(fixture, (c) => { c[field] = bad; }, `eps-${fixture}`);
      // JSON has no Infinity, but 1e400 parses as one.
      if (bad === 'INF') writeFileSync(join(dir, 'config.json'), readFileSync(join(dir, 'config.json'), 'utf8').replace('"INF"', '1e400'));
      throwsNaming(() => loadModelDir(dir), join(dir, 'config.json'), new RegExp(`'${field}' must be a positive finite number`));
    }
});

test('rope theta <= 0 is rejected at load, naming the field', () => {
  for (const [fixture, field] of [['llama', 'rope_theta'], ['gpt_neox', 'rotary_emb_base'], ['phi', 'rope_theta']] as const)
    for (const bad of [0, -10000]) {
      const dir = withConfig(fixture, (c) => { c[field] = bad; }, `theta-${fixture}`);
      throwsNaming(() => loadModelDir(dir), join(dir, 'config.json'), new RegExp(`'${field}' must be a positive finite number`));
    }
});

test('non-positive, fractional, non-dividing and huge sizes are rejected at load, naming the field (no RangeError)', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['llama', { num_hidden_layers: 0 }, /'num_hidden_layers' must be a positive integer/],
    ['llama', { hidden_size: -64 }, /'hidden_size' must be a positive integer/],
    ['llama', { intermediate_size: 96.5 }, /'intermediate_size' must be a positive integer/],
    ['llama', { num_attention_heads: 0 }, /'num_attention_heads' must be a positive integer/],
    ['llama', { num_key_value_heads: 3 }, /multiple of num_key_value_heads/],
    ['llama', { vocab_size: 1e15 }, /'vocab_size' must be a positive integer up to/],
    ['llama', { intermediate_size: 2 ** 31 - 1 }, /more than one array can hold|GiB/],
    ['llama', { hidden_size: 2 ** 30, head_dim: 2 ** 28 }, /more than one array can hold|GiB/],
    ['gpt2', { n_head: 5 }, /divisible by n_head/],
    ['gpt2', { n_positions: 2 ** 31 - 1 }, /more than one array can hold|GiB/],
    ['gpt2', { n_layer: 'three' }, /'n_layer' must be a positive integer/],
    ['gpt_neox', { rotary_pct: 0 }, /rotary_pct must be in \(0, 1\]/],
    ['llama', { max_position_embeddings: -1 }, /'max_position_embeddings' must be a positive integer/],
  ];
  for (const [i, [fixture, edit, pattern]] of cases.entries()) {
    const dir = withConfig(fixture, (c) => Object.assign(c, edit), `size-${i}`);
    // The config alone decides; the safetensors shapes never get to disagree first.
    throwsNaming(() => loadModelDir(dir), dir, pattern);
  }
});

test('bos/eos ids in config.json outside the vocabulary or of the wrong type name the field', () => {
  for (const [edit, pattern] of [
    [{ bos_token_id: 128 }, /'bos_token_id' is 128, outside the vocabulary \(vocab_size 128\)/],
    [{ eos_token_id: -2 }, /'eos_token_id' must be a non-negative integer token id/],
    [{ bos_token_id: '1' }, /'bos_token_id' must be a non-negative integer token id/],
  ] as const) {
    const dir = withConfig('llama', (c) => Object.assign(c, edit), 'bos');
    throwsNaming(() => loadModelDir(dir), join(dir, 'config.json'), pattern);
  }
});

/** Overwrites element `index` of tensor `name` in dir/model.safetensors with the raw bits `bits`. */
function poke(dir: string, name: string, index: number, value: number): void {
  const file = join(dir, 'model.safetensors');
  const st = SafetensorsFile.open(file);
  const e = st.entry(name);
  st.close();
  const bytes = readFileSync(file);
  if (e.dtype === 'F32') bytes.writeFloatLE(value, e.begin + 4 * index);
  else if (e.dtype === 'F16') bytes.writeUInt16LE(Number.isNaN(value) ? 0x7e00 : value > 0 ? 0x7c00 : 0xfc00, e.begin + 2 * index);
  else if (e.dtype === 'BF16') bytes.writeUInt16LE(Number.isNaN(value) ? 0x7fc0 : value > 0 ? 0x7f80 : 0xff80, e.begin + 2 * index);
  writeFileSync(file, bytes);
}

test('NaN/Inf weights are rejected at load, naming the tensor and the file (f32, f16, bf16)', () => {
  const cases: [string, string, number][] = [
    ['llama', 'model.layers.1.mlp.down_proj.weight', NaN],
    ['llama', 'model.layers.0.self_attn.k_proj.weight', Infinity], // read into the fused q/k/v buffer
    ['gpt2', 'transformer.h.2.ln_2.bias', -Infinity],
    ['gpt2_f16', 'wte.weight', Infinity],
    ['llama_tied_bf16', 'model.norm.weight', NaN],
  ];
  for (const [fixture, tensor, value] of cases) {
    const dir = copyFixture(root, fixture, `weights-${fixture}`);
    poke(dir, tensor, 3, value);
    const expect = Number.isNaN(value) ? 'NaN' : String(value);
    throwsNaming(() => loadModelDir(dir), join(dir, 'model.safetensors'), new RegExp(`tensor '${tensor.replace(/\./g, '\\.')}' holds ${expect} at element 3`));
  }
});

test('NaN/Inf bf16 weights are rejected at load in a bf16 run too (kept as stored bf16 bits, not converted)', () => {
  const cases: [string, number][] = [
    ['model.layers.1.mlp.down_proj.weight', NaN], // a matrix used as stored
    ['model.layers.0.self_attn.v_proj.weight', -Infinity], // stacked into the fused q/k/v
    ['model.embed_tokens.weight', Infinity], // the (tied) embedding, a mapped view
  ];
  for (const [tensor, value] of cases) {
    const dir = copyFixture(root, 'llama_tied_bf16', 'weights-bf16-run');
    poke(dir, tensor, 3, value);
    const expect = Number.isNaN(value) ? 'NaN' : String(value);
    throwsNaming(() => loadModelDir(dir, {}, getBackend(), { dtype: 'bf16' }), join(dir, 'model.safetensors'), new RegExp(`tensor '${tensor.replace(/\./g, '\\.')}' holds ${expect} at element 3`));
  }
  // The untouched fixture loads in bf16.
  assert.equal(loadModelDir(copyFixture(root, 'llama_tied_bf16', 'weights-bf16-ok'), {}, getBackend(), { dtype: 'bf16' }).dtype, 'bf16');
});

test('a non-finite activation stops the forward pass at the first hook where it appeared', () => {
  const dir = copyFixture(root, 'llama', 'runtime');
  const model = loadModelDir(dir);
  // Weights that overflow float32 in block 2's attention output (finite weights, infinite product).
  const o = model.params.blocks[2].o.w;
  const saved = o.slice();
  o.fill(3e38);
  assert.throws(() => forward(model, ids), (e: unknown) => {
    assert.ok(e instanceof LayerlabError);
    assert.match(e.message, /produced (-?Infinity|NaN) first at blocks\.2\.hook_attn_out \(block 2\) \(batch row 0, position \d\)/);
    assert.ok(e.message.includes(dir), e.message);
    return true;
  });
  // The same block in another slot of a plan is named by its slot and block.
  assert.throws(() => forward(model, ids, { plan: [2, 0] }), /first at blocks\.0\.hook_attn_out \(block 2\)/);
  o.set(saved);
  // A hook that writes NaN is caught too, at that hook.
  assert.throws(
    () => forward(model, ids, { hooks: [{ name: 'blocks.1.hook_mlp_out', fn: (t) => { t.data[5] = NaN; return t; } }] }),
    /produced NaN first at blocks\.1\.hook_mlp_out \(block 1\) \(batch row 0, position 0\)/,
  );
  // And a finite model runs: every logit finite.
  const logits = forward(model, ids).logits!.data;
  assert.ok(logits.every(Number.isFinite));
});

test('NaN in the embedding (learned positions) is named at the embedding', () => {
  const model = loadModelDir(copyFixture(root, 'gpt2', 'embed-nan'));
  model.params.W_pos![2 * model.config.dModel + 1] = NaN;
  assert.throws(() => forward(model, [[1, 2, 3]]), /produced NaN first at hook_embed \+ hook_pos_embed \(batch row 0, position 2\)/);
});

test('generate never returns nothing because of NaN: it stops with an error', () => {
  const model = loadModelDir(copyFixture(root, 'llama', 'gen-nan'));
  model.params.lnFinal.w.fill(Infinity);
  assert.throws(() => greedyGenerate(model, [1, 5, 9], 4), (e: unknown) => e instanceof LayerlabError && /first at/.test(e.message));
});

test('CLI: generate with a negative norm epsilon exits with one line naming config.json and the field; a sound model generates', () => {
  const good = copyFixture(root, 'llama', 'cli-gen');
  writeJson(join(good, 'tokenizer.json'), tinyTokenizerJson());
  const ok = runCli(['generate', '--model', good, '--prompt', 'the band', '--max-new-tokens', '3']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(ok.stdout.startsWith('the band'), ok.stdout);
  const bad = withConfig('llama', (c) => { c.rms_norm_eps = -1e-5; }, 'cli-gen-bad');
  writeJson(join(bad, 'tokenizer.json'), tinyTokenizerJson());
  const r = runCli(['generate', '--model', bad, '--prompt', 'the band', '--max-new-tokens', '3']);
  assertCliUserError(r, join(bad, 'config.json'), /'rms_norm_eps' must be a positive finite number, got -0\.00001/);
  assert.equal(r.stdout, '');
});
