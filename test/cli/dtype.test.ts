import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/load/safetensors.js';
import { cpuHasBf16 } from '../../src/backend/cpu.js';
import { repoRoot } from '../helpers/shared.js';
import { maxAbsDiff, openGolden } from '../helpers/golden.js';

const bin = join(repoRoot, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).bin.layerlab);
const tmp = mkdtempSync(join(tmpdir(), 'layerlab-dtype-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function layerlab(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function forwardWith(name: string, dtype: string, env: Record<string, string> = {}) {
  const g = openGolden(name);
  const ids = join(tmp, `${name}.json`), out = join(tmp, `${name}-${dtype}-${Object.keys(env).join('')}.safetensors`);
  writeFileSync(ids, JSON.stringify(g.expected.input_ids));
  const r = layerlab(env, 'forward', '--model', g.dir, '--input-ids', ids, '--dtype', dtype, '--out', out);
  return { g, r, file: r.code === 0 ? SafetensorsFile.open(out) : undefined };
}

test('forward --dtype bf16 computes with bf16 weights and says so in the provenance', () => {
  const { g, r, file } = forwardWith('gpt2', 'bf16');
  assert.equal(r.code, 0, r.stderr);
  const m = file!.metadata;
  assert.equal(m.dtype, 'bf16');
  assert.equal(m.compute_dtype, 'bf16 weights and matmul inputs, float32 accumulation');
  assert.match(m.matmul_kernel, cpuHasBf16() ? /^onednn:/ : /via f32/);
  assert.match(m.attention_kernel, /^(tiled-avx512|blas)$/);
  assert.ok(JSON.parse(m.cpu_features).length > 0 || process.arch !== 'x64');
  assert.ok(JSON.parse(m.threads_by_library).onednn_openmp >= 1);
  const ref = g.tensors.readF32('logits_baseline'), got = file!.readF32('logits');
  const err = maxAbsDiff(got, ref);
  // bf16, not f32: the logits moved, within the measured bf16 tolerance (test/model/golden-bf16.test.ts).
  assert.ok(err > 1e-5 && err < 0.06 * Math.max(...ref.map(Math.abs)), `error ${err}`);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
});

test('--dtype bf16 on a CPU without bf16 instructions runs through f32 and prints one line saying so', () => {
  const { r, file } = forwardWith('gpt2', 'bf16', { LAYERLAB_BF16: 'via-f32' });
  assert.equal(r.code, 0, r.stderr);
  const notices = r.stderr.split('\n').filter((l) => /AVX512-BF16/.test(l));
  assert.equal(notices.length, 1, r.stderr);
  assert.match(notices[0], /^layerlab: .*multiplied through f32/);
  assert.equal(file!.metadata.dtype, 'bf16');
  assert.match(file!.metadata.matmul_kernel, /via f32/);
});

test('--dtype auto picks bf16 only for a 16-bit checkpoint on a CPU with bf16 instructions', () => {
  assert.equal(forwardWith('gpt2', 'auto').file!.metadata.dtype, 'f32');
  const bf16 = forwardWith('llama_tied_bf16', 'auto').file!.metadata;
  assert.equal(bf16.dtype, cpuHasBf16() ? 'bf16' : 'f32');
  assert.match(bf16.dtype_reason, /^auto: /);
  assert.equal(forwardWith('llama_tied_bf16', 'auto', { LAYERLAB_BF16: 'via-f32' }).file!.metadata.dtype, 'f32');
  // The default stays f32: results of existing commands do not change.
  const g = openGolden('gpt2');
  const out = join(tmp, 'default.safetensors');
  assert.equal(layerlab({}, 'forward', '--model', g.dir, '--input-ids', join(tmp, 'gpt2.json'), '--out', out).code, 0);
  assert.equal(SafetensorsFile.open(out).metadata.dtype, 'f32');
});

test('a bad --dtype is one line naming the flag and the choices', () => {
  const r = forwardWith('gpt2', 'fp8').r;
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--dtype must be one of f32, bf16, auto, got 'fp8'/);
});

test('inspect reports what --dtype auto would choose and the memory of each dtype', () => {
  const r = layerlab({}, 'inspect', '--model', openGolden('llama_tied_bf16').dir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.bf16Bytes * 2, info.f32Bytes);
  assert.equal(info.dtypeAuto.dtype, cpuHasBf16() ? 'bf16' : 'f32');
});
