/**
 * The installable package: `npm pack` makes a tarball that installs into an empty folder (npm's cache
 * first: prefer-offline), builds the native kernels on install (the BLAS headers are on this
 * machine), and there `npx layerlab --help`, `npx layerlab paper --out r` and
 * `import { loadModel, forward } from 'layerlab'` (with type declarations) work. Without the addon the
 * package falls back to the TypeScript kernels with one warning, and its install script never fails.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_COMMANDS, run } from '../helpers/readme.js';
import { repoRoot } from '../helpers/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'layerlab-pack-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const app = join(tmp, 'app');
const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string;
const tgz = `layerlab-${version}.tgz`;
// npm's cache first (the test command's `npm ci` filled it): the install works without the registry.
const npmEnv = { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const sh = (line: string, cwd: string, env: NodeJS.ProcessEnv = npmEnv) => run('bash', ['-c', line], { cwd, env });

test('npm pack → npm install into an empty folder → npx layerlab --help / paper --out r → import with types → JS fallback', async (t) => {
  assert.deepEqual(PACKAGE_COMMANDS, ['npm pack', `npm install ./${tgz}`, 'npx layerlab --help', 'npx layerlab paper --out r']);

  // npm pack (dist/ is already built by the test command; --ignore-scripts skips the prepack rebuild).
  const pack = await sh(`npm pack --ignore-scripts --pack-destination ${tmp} --json`, repoRoot);
  assert.equal(pack.code, 0, pack.stderr);
  const files = (JSON.parse(pack.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'assets/kjv-tiny/model.safetensors', 'assets/corpus.jsonl', 'scripts/install-native.mjs', 'binding.gyp', 'native/addon.cc'])
    assert.ok(files.includes(f), `tarball lacks ${f}`);
  assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('build/') || f.startsWith('node_modules/')), 'tarball holds test or build output');

  mkdirSync(app);
  copyFileSync(join(tmp, tgz), join(app, tgz));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  await t.test('npm install ./layerlab-*.tgz builds the native addon', async () => {
    const r = await sh(PACKAGE_COMMANDS[1]!, app);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(app, 'node_modules', 'layerlab', 'build', 'Release', 'layerlab_native.node')), r.stdout + r.stderr);
  });

  await t.test('npx layerlab --help', async () => {
    const r = await sh(PACKAGE_COMMANDS[2]!, app);
    assert.equal(r.code, 0, r.stderr);
    for (const c of ['inspect', 'forward', 'sweep', 'stages', 'report', 'paper']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  });

  await t.test('npx layerlab paper --out r: the bundled run, on the native kernels', async () => {
    const r = await sh(PACKAGE_COMMANDS[3]!, app);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^report: r\/report\.html\n- Deleting layer \d+ of 6 hurts most.*\n- Mean top-1 agreement.*\n- Proposed stages: .*\n$/);
    assert.doesNotMatch(r.stderr, /native BLAS kernels unavailable/);
    assert.ok(existsSync(join(app, 'r', 'report-figures')));
    const m = JSON.parse(readFileSync(join(app, 'r', 'sweep', 'metrics.json'), 'utf8'));
    assert.equal(m.provenance.backend, 'openblas');
  });

  await t.test("import { loadModel, forward } from 'layerlab', with type declarations", async () => {
    writeFileSync(
      join(app, 'use.ts'),
      "import { loadModel, forward } from 'layerlab';\n" +
        'const model = await loadModel();\n' +
        'const logits = forward(model, [[0, 40, 41, 42]], { plan: [0, 2, 1, 3, 4, 5] }).logits!;\n' +
        'const layers: number = model.config.nLayers;\n' +
        "console.log(JSON.stringify({ layers, shape: logits.shape, finite: Array.from(logits.data).every(Number.isFinite) }));\n",
    );
    const tsc = `node ${join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc')} --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck --typeRoots ${join(repoRoot, 'node_modules', '@types')} --types node`;
    const ok = await sh(`${tsc} use.ts`, app);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const r = await sh('node use.js', app);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { layers: 6, shape: [1, 4, 768], finite: true });
    // The declarations are real types, not `any`: a wrong one is a compile error.
    writeFileSync(join(app, 'wrong.ts'), "import { loadModel } from 'layerlab';\nconst s: string = (await loadModel()).config.nLayers;\nconsole.log(s);\n");
    const bad = await sh(`${tsc} --noEmit wrong.ts`, app);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /wrong\.ts\(2,7\): error TS2322/);
  });

  await t.test('without the addon: the install script warns and succeeds, the CLI falls back with one warning', async () => {
    const pkg = join(app, 'node_modules', 'layerlab');
    const inst = await sh('node scripts/install-native.mjs', pkg, { ...npmEnv, LAYERLAB_SKIP_NATIVE: '1' });
    assert.equal(inst.code, 0);
    assert.equal(inst.stderr.trim().split('\n').length, 1, inst.stderr);
    assert.match(inst.stderr, /native kernels not built .*TypeScript kernels/);
    rmSync(join(pkg, 'build'), { recursive: true, force: true });
    writeFileSync(join(app, 'ids.json'), '[[0, 40, 41, 42]]');
    const r = await sh('npx layerlab forward --model node_modules/layerlab/assets/kjv-tiny --input-ids ids.json --out o.safetensors', app);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/native BLAS kernels unavailable/g)?.length, 1, r.stderr);
    assert.ok(existsSync(join(app, 'o.safetensors')));
  });
});
