import { readFileSync } from 'node:fs';

let flagsMemo: Set<string> | undefined | null;

/** The CPU flags Linux reports (/proc/cpuinfo), undefined off Linux. */
function cpuFlagSet(): Set<string> | undefined {
  if (flagsMemo === undefined) {
    try {
      const text = readFileSync('/proc/cpuinfo', 'utf8');
      flagsMemo = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
    } catch {
      flagsMemo = null;
    }
  }
  return flagsMemo ?? undefined;
}

/** Features that decide layerlab's kernels, as this CPU reports them (for provenance). */
const RELEVANT_FLAGS = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_tile', 'amx_bf16', 'amx_int8'];
export function cpuFeatures(): string[] {
  const flags = cpuFlagSet();
  return flags ? RELEVANT_FLAGS.filter((f) => flags.has(f)) : [];
}

/** True when the CPU multiplies bf16 natively: AVX512-BF16 (vdpbf16ps) or AMX-BF16 tiles. */
export function cpuHasBf16(): boolean {
  const flags = cpuFlagSet();
  return !!flags && (flags.has('avx512_bf16') || flags.has('amx_bf16'));
}

/** SIMD level of this CPU as Linux reports it; 'unknown' off Linux. */
export function cpuSimdLevel(): 'avx512' | 'avx2' | 'baseline' | 'unknown' {
  const flags = cpuFlagSet();
  if (!flags) return 'unknown';
  const has = (f: string) => flags.has(f);
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
