import { readFileSync } from 'node:fs';

/** SIMD level of this CPU as Linux reports it; 'unknown' off Linux. */
export function cpuSimdLevel(): 'avx512' | 'avx2' | 'baseline' | 'unknown' {
  let flags: string;
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    flags = /^flags\s*:(.*)$/m.exec(text)?.[1] ?? '';
  } catch {
    return 'unknown';
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  if (has('avx512f')) return 'avx512';
  if (has('avx2') && has('fma')) return 'avx2';
  return 'baseline';
}

/** The OpenBLAS kernel family we ask for, given the CPU; undefined leaves OpenBLAS to detect. */
export function preferredCoreType(level = cpuSimdLevel()): string | undefined {
  if (level === 'avx512') return 'SkylakeX';
  if (level === 'avx2') return 'Haswell';
  return undefined;
}

/** OpenBLAS core names that use no AVX2/AVX-512 kernels (slow on a modern x86 CPU). */
const SLOW_CORES = /^(Prescott|Katmai|Coppermine|Northwood|Banias|Core2|Penryn|Dunnington|Nehalem|Sandybridge|Atom|Bobcat|Opteron|Barcelona|Generic)/i;

/** A warning if the loaded core wastes the CPU's SIMD width; undefined when it is fine. */
export function slowCoreWarning(core: string, level = cpuSimdLevel()): string | undefined {
  if (level !== 'avx512' && level !== 'avx2') return undefined;
  const wantsAvx512 = level === 'avx512';
  const weak = SLOW_CORES.test(core) || (wantsAvx512 && /^(Haswell|Zen)/i.test(core));
  if (!weak) return undefined;
  return `OpenBLAS is using the '${core}' kernels on a CPU with ${level.toUpperCase()}; matrix products run several times slower. ` +
    `Unset OPENBLAS_CORETYPE (layerlab then picks '${preferredCoreType(level)}') or set it to that value.`;
}
