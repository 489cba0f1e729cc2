import { getBackend } from '../../src/backend/index.js';

/**
 * The relative tolerance to which native runs with different shard sizes must agree. With the tiled
 * attention kernel (AVX-512 CPUs: every machine this project targets) a token's values do not depend on
 * its batch at all (test/backend/row-invariance.test.ts), so shards change only the order of merging:
 * 1e-9. The BLAS attention fallback (CPUs without AVX-512) cuts queries into blocks up to the padded
 * length, which moves a padded window's values by ~1e-7: 1e-6 there.
 */
export function nativeShardTolerance(): number {
  return getBackend().info().kernels?.attention === 'tiled-avx512' ? 1e-9 : 1e-6;
}
