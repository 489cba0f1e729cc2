// Fuzz: config.json of every family. Property: loading the model and running a forward pass either
// raises a LayerlabError naming the model folder (config.json, a checkpoint file, or the folder), or
// returns logits of the right shape that are all finite. Never another exception, a RangeError from a
// huge allocation, or silent NaN.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { copyFixture, fuzzSettings, HOSTILE_VALUES, isLayerlabErrorNaming, tempRoot } from './loaders-helpers.js';

const root = tempRoot(after, 'fuzz-cfg');
const FAMILIES = ['gpt2', 'llama', 'llama3_rope', 'mistral', 'qwen2', 'gpt_neox', 'phi'];
const dirs = new Map(FAMILIES.map((f) => [f, copyFixture(root, f, f)]));
const originals = new Map(FAMILIES.map((f) => [f, readFileSync(join(dirs.get(f)!, 'config.json'), 'utf8')]));

/** Fields that matter somewhere, present or not in a given config. */
const EXTRA_KEYS = [
  'rope_scaling', 'head_dim', 'n_inner', 'sliding_window', 'use_sliding_window', 'rotary_pct', 'partial_rotary_factor', 'rope_theta',
  'rotary_emb_base', 'num_key_value_heads', 'tie_word_embeddings', 'hidden_act', 'activation_function', 'qk_layernorm', 'bos_token_id',
];
const VALUES = [...HOSTILE_VALUES, 'relu', 'gelu', 'silu', 'gelu_new', 'swish', 'tanh', { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 }];

type Edit = { key: string; action: 'delete' | 'set' | 'scale'; value: unknown; factor: number };
const edit: fc.Arbitrary<Edit> = fc.record({
  key: fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.nat()).map((k) => k as string | number) as fc.Arbitrary<any>,
  action: fc.constantFrom('delete', 'set', 'set', 'scale'),
  value: fc.constantFrom(...VALUES),
  factor: fc.constantFrom(0, -1, 0.5, 2, 1e6, 1e12),
});

function apply(config: Record<string, unknown>, e: Edit): void {
  const keys = Object.keys(config);
  const key = typeof e.key === 'number' ? keys[e.key % keys.length] : e.key;
  if (e.action === 'delete') delete config[key];
  else if (e.action === 'set') config[key] = e.value;
  else if (typeof config[key] === 'number') config[key] = (config[key] as number) * e.factor;
}

test('fuzz config.json (7 families): finite logits or a LayerlabError naming the model folder', () => {
  const ids = [[1, 7, 2, 50, 11, 3, 60, 9]];
  const outcomes = { ok: 0, rejected: 0 };
  fc.assert(
    fc.property(fc.constantFrom(...FAMILIES), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.constantFrom('json', 'json', 'json', 'truncated', 'infinity'), (family, edits, form) => {
      const dir = dirs.get(family)!;
      const config = JSON.parse(originals.get(family)!);
      for (const e of edits) apply(config, e);
      let text = JSON.stringify(config, null, 1);
      if (form === 'truncated') text = text.slice(0, text.length >> 1);
      if (form === 'infinity') text = text.replace(/: (\d+(\.\d+)?)/, ': 1e999');
      writeFileSync(join(dir, 'config.json'), text);
      try {
        const model = loadModelDir(dir);
        const res = forward(model, ids);
        assert.deepEqual(res.logits!.shape, [1, ids[0].length, model.config.vocabSize]);
        assert.ok(res.logits!.data.every(Number.isFinite), 'non-finite logits returned silently');
        outcomes.ok++;
      } catch (e) {
        isLayerlabErrorNaming(e, dir);
        outcomes.rejected++;
      }
    }),
    fuzzSettings(350),
  );
  assert.ok(outcomes.ok > 20 && outcomes.rejected > 100, JSON.stringify(outcomes));
});
