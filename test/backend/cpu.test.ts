import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preferredCoreType, slowCoreWarning } from '../../src/backend/cpu.js';

test('OpenBLAS core choice follows the CPU SIMD level', () => {
  assert.equal(preferredCoreType('avx512'), 'SkylakeX');
  assert.equal(preferredCoreType('avx2'), 'Haswell');
  assert.equal(preferredCoreType('baseline'), undefined);
});

test('a slow OpenBLAS core on an AVX-512 CPU is reported, a fast one is not', () => {
  assert.match(slowCoreWarning('Prescott', 'avx512')!, /Prescott.*SkylakeX/);
  assert.match(slowCoreWarning('Haswell', 'avx512')!, /AVX512/);
  assert.equal(slowCoreWarning('SkylakeX', 'avx512'), undefined);
  assert.equal(slowCoreWarning('Cooperlake', 'avx512'), undefined);
  assert.equal(slowCoreWarning('Haswell', 'avx2'), undefined);
  assert.equal(slowCoreWarning('Prescott', 'baseline'), undefined);
});

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/shared.js';

function coreInChild(env: NodeJS.ProcessEnv): { core: string; warning?: string } {
  const script = `import('${join(repoRoot, 'dist/src/backend/index.js')}').then(m => console.log(JSON.stringify(m.getBackend().info())))`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }));
}

test('layerlab picks the fast OpenBLAS core when OPENBLAS_CORETYPE is unset, and never overrides a user value', { skip: preferredCoreType() === 'SkylakeX' ? undefined : 'needs an AVX-512 CPU' }, () => {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  assert.equal(coreInChild(env).core, 'SkylakeX');
  const forced = coreInChild({ ...env, OPENBLAS_CORETYPE: 'Haswell' });
  assert.equal(forced.core, 'Haswell');
  assert.match(forced.warning!, /Haswell/);
});
