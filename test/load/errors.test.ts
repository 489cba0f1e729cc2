import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import { LayerlabError } from '../../src/util/errors.js';
import { fixturePath } from '../helpers/shared.js';

const root = mkdtempSync(join(tmpdir(), 'layerlab-errors-'));
after(() => rmSync(root, { recursive: true, force: true }));

function copyFixture(name: string, as: string): string {
  const dir = join(root, as);
  cpSync(fixturePath('golden', name), dir, { recursive: true });
  return dir;
}

/** Asserts a LayerlabError whose message names `file` and matches `pattern`. */
function throwsNaming(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LayerlabError, `expected LayerlabError, got ${e}`);
    assert.ok(e.message.includes(file), `message should name ${file}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a truncated safetensors file is reported with its path', () => {
  const dir = copyFixture('gpt2', 'truncated');
  const file = join(dir, 'model.safetensors');
  truncateSync(file, statSync(file).size - 100);
  throwsNaming(() => loadModelDir(dir), file, /past the end of the file.*truncated/);
});

test('a header whose length points past the end of the file is reported', () => {
  const dir = copyFixture('gpt2', 'badheader');
  const file = join(dir, 'model.safetensors');
  const bytes = readFileSync(file);
  bytes.writeBigUInt64LE(BigInt(bytes.length + 10), 0);
  writeFileSync(file, bytes);
  throwsNaming(() => SafetensorsFile.open(file), file, /header of \d+ bytes runs past the end/);
  writeFileSync(file, Buffer.from([1, 2, 3]));
  throwsNaming(() => SafetensorsFile.open(file), file, /shorter than the 8-byte header/);
});

test('a tensor shape that disagrees with config.json names the tensor, both shapes and the file', () => {
  const dir = copyFixture('llama', 'badshape');
  const cfgPath = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.intermediate_size += 1;
  writeFileSync(cfgPath, JSON.stringify(cfg));
  throwsNaming(() => loadModelDir(dir), 'model.safetensors', /mlp\.gate_proj\.weight' has shape \[96,64\] but the config implies \[97,64\]/);
});

test('an unknown architecture lists the supported model types', () => {
  const dir = copyFixture('gpt2', 'unknown');
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), model_type: 'mamba' }));
  throwsNaming(() => loadModelDir(dir), cfgPath, /unsupported model_type 'mamba'; supported: gpt2, .*llama.*gpt_neox.*phi/);
});

test('a missing config field, a missing folder and a missing weights file are clear errors', () => {
  const dir = copyFixture('gpt2', 'nofield');
  const cfgPath = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  delete cfg.n_embd;
  writeFileSync(cfgPath, JSON.stringify(cfg));
  throwsNaming(() => loadModelDir(dir), cfgPath, /required field 'n_embd' is missing/);
  throwsNaming(() => loadModelDir(join(root, 'nope')), 'nope', /does not exist/);
  const noWeights = copyFixture('gpt2', 'noweights');
  rmSync(join(noWeights, 'model.safetensors'));
  throwsNaming(() => loadModelDir(noWeights), noWeights, /no model\.safetensors/);
});

test('a shard listed in the index but absent is named', () => {
  const dir = copyFixture('llama_sharded', 'missingshard');
  rmSync(join(dir, 'model-00002-of-00002.safetensors'));
  throwsNaming(() => loadModelDir(dir), dir, /shard 'model-00002-of-00002\.safetensors' is listed .* but missing/);
});

test('token ids outside the vocabulary and empty or ragged input are rejected', () => {
  const model = loadModelDir(fixturePath('golden', 'gpt2'));
  assert.throws(() => forward(model, [[1, 2, 96]]), /token id 96 at position 2 of row 0 is outside the vocabulary \(size 96\)/);
  assert.throws(() => forward(model, [[-1]]), /token id -1/);
  assert.throws(() => forward(model, []), /input is empty/);
  assert.throws(() => forward(model, [[]]), /input is empty/);
  assert.throws(() => forward(model, [[1, 2], [3]]), /equal length/);
  assert.throws(() => forward(model, [[1, 2]], { plan: [0, 5] }), /names block 5, but the model has blocks 0\.\.2/);
});
