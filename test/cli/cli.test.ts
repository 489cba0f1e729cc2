import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import { fixturePath, needsShared, repoRoot, sharedPath } from '../helpers/shared.js';
import { maxAbsDiff, openGolden } from '../helpers/golden.js';

const bin = join(repoRoot, JSON.parse((await import('node:fs')).readFileSync(join(repoRoot, 'package.json'), 'utf8')).bin.layerlab);
const tmp = mkdtempSync(join(tmpdir(), 'layerlab-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function layerlab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('forward --input-ids writes logits and hooks for a plan, equal to the golden reference', () => {
  const g = openGolden('gpt2');
  const ids = join(tmp, 'ids.json'), out = join(tmp, 'out.safetensors');
  writeFileSync(ids, JSON.stringify(g.expected.input_ids));
  const r = layerlab('forward', '--model', g.dir, '--input-ids', ids, '--plan', g.expected.plans.swap_1.join(','), '--hooks', 'blocks.*.hook_resid_post,blocks.0.attn.hook_pattern', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const f = SafetensorsFile.open(out);
  assert.deepEqual(f.entry('logits').shape, [2, 16, 96]);
  assert.ok(maxAbsDiff(f.readF32('logits'), g.tensors.readF32('logits_swap_1')) <= 1e-4);
  assert.deepEqual(f.entry('blocks.2.hook_resid_post').shape, [2, 16, 48]);
  assert.deepEqual(f.entry('blocks.0.attn.hook_pattern').shape, [2, 4, 16, 16]);
  assert.equal(f.metadata.plan, '[0,2,1]');
  assert.equal(f.metadata.backend, 'openblas');
  assert.ok(f.metadata.layerlab_version && f.metadata.git_commit && f.metadata.model_type === 'gpt2');
  // --out overwrites
  assert.equal(layerlab('forward', '--model', g.dir, '--input-ids', ids, '--out', out).code, 0);
  assert.equal(SafetensorsFile.open(out).entries.size, 1);
});

test('bad CLI input gives one clear line and exit code 2, never a stack trace', () => {
  const g = openGolden('gpt2');
  const bad = join(tmp, 'bad.json');
  writeFileSync(bad, JSON.stringify([[1, 2, 500]]));
  const cases: Array<[string[], RegExp]> = [
    [['forward', '--model', g.dir, '--input-ids', bad, '--out', join(tmp, 'x.st')], /bad\.json: token id 500 .* outside the vocabulary/],
    [['forward', '--model', join(tmp, 'missing'), '--input-ids', bad, '--out', join(tmp, 'x.st')], /missing/],
    [['forward', '--model', g.dir, '--input-ids', join(tmp, 'none.json'), '--out', join(tmp, 'x.st')], /none\.json: cannot read token ids/],
    [['forward', '--model', g.dir, '--input-ids', bad, '--plan', '0,9', '--out', join(tmp, 'x.st')], /names block 9/],
    [['forward', '--model', g.dir, '--input-ids', bad, '--hooks', 'blocks.0.hook_nothing', '--out', join(tmp, 'x.st')], /matches no hook point/],
  ];
  writeFileSync(join(tmp, 'empty.json'), '[]');
  cases.push([['forward', '--model', g.dir, '--input-ids', join(tmp, 'empty.json'), '--out', join(tmp, 'x.st')], /empty\.json: input is empty/]);
  for (const [args, pattern] of cases) {
    const r = layerlab(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('inspect describes a model', () => {
  const r = layerlab('inspect', '--model', fixturePath('golden', 'llama'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.family, 'llama');
  assert.equal(info.layers, 3);
  assert.equal(info.kvHeads, 2);
  assert.equal(info.parameters, info.storedTensorElements);
  assert.equal(info.dtype, 'F32');
});

test('generate continues a prompt greedily like the reference', needsShared('models', 'stories260k'), async () => {
  const dir = sharedPath('models', 'stories260k')!;
  const expected = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'expected.json'), 'utf8'));
  const r = layerlab('generate', '--model', dir, '--prompt', expected.prompt_text_used, '--max-new-tokens', '64');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd(), (expected.prompt_text_used + expected.greedy.prompt_continuation.text).trimEnd());
  const inspect = layerlab('inspect', '--model', dir);
  assert.match(inspect.stdout, /tokenizer\s+vocab 512, bos 1, eos 2/);
});

test('paper with a model that is neither a folder nor reachable says so and how to use a local folder', () => {
  const data = join(tmp, 'corpus.txt');
  writeFileSync(data, 'One story.\n\nAnother story.\n');
  const r = layerlab('paper', '--model', 'openai-community/gpt2', '--data', data, '--out', join(tmp, 'paper'));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not in the local Hugging Face cache .* offline mode is on .* point --model at a local folder/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
