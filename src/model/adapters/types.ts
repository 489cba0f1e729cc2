import type { Checkpoint } from '../../load/checkpoint.js';
import type { ModelConfig, RopeConfig } from '../config.js';
import type { ModelParams } from '../params.js';
import { LayerlabError } from '../../util/errors.js';

/**
 * One model family: how its config.json maps to a ModelConfig and its checkpoint tensors to canonical
 * parameters. Adding a family means adding one of these to the registry, plus a golden test.
 */
export interface FamilyAdapter {
  family: string;
  /** config.json model_type values this adapter reads. */
  modelTypes: string[];
  parseConfig(raw: Record<string, unknown>, file: string): ModelConfig;
  loadParams(ck: Checkpoint, cfg: ModelConfig): ModelParams;
}

/** Typed access to config.json fields with errors that name the file and the field. */
export class ConfigFields {
  constructor(private readonly raw: Record<string, unknown>, private readonly file: string) {}

  private fail(msg: string): never {
    throw new LayerlabError(msg, this.file);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** First present key among alternatives (configs name the same thing differently across versions). */
  private pick(keys: string[]): [string, unknown] | undefined {
    for (const k of keys) if (this.has(k)) return [k, this.raw[k]];
    return undefined;
  }

  /** A numeric field (first present of `keys`), validated; `fallback` when absent, else an error. */
  private number(keys: string | string[], fallback: number | undefined, ok: (v: number) => boolean, what: string): number {
    const list = Array.isArray(keys) ? keys : [keys];
    const hit = this.pick(list);
    if (!hit) {
      if (fallback !== undefined) return fallback;
      this.fail(`required field '${list[0]}' is missing`);
    }
    const [k, v] = hit;
    if (typeof v !== 'number' || !ok(v)) this.fail(`field '${k}' must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  }

  int(keys: string | string[], fallback?: number): number {
    return this.number(keys, fallback, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
  }

  num(keys: string | string[], fallback?: number): number {
    return this.number(keys, fallback, Number.isFinite, 'a number');
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.raw[key];
    if (typeof v !== 'boolean') this.fail(`field '${key}' must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback?: string): string {
    if (!this.has(key)) {
      if (fallback !== undefined) return fallback;
      this.fail(`required field '${key}' is missing`);
    }
    const v = this.raw[key];
    if (typeof v !== 'string') this.fail(`field '${key}' must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** bos/eos ids may be a number or a list (first is used); absent gives undefined. */
  tokenId(key: string): number | undefined {
    const v = this.raw[key];
    if (typeof v === 'number') return v;
    if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
    return undefined;
  }

  object(key: string): Record<string, unknown> | undefined {
    const v = this.raw[key];
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  }

  activation(key: string, fallback: string): 'gelu_new' | 'gelu' | 'silu' | 'relu' {
    const v = this.str(key, fallback);
    const map: Record<string, 'gelu_new' | 'gelu' | 'silu' | 'relu'> = {
      gelu_new: 'gelu_new', gelu_pytorch_tanh: 'gelu_new', gelu_fast: 'gelu_new', gelu: 'gelu', silu: 'silu', swish: 'silu', relu: 'relu',
    };
    if (!(v in map)) this.fail(`activation '${v}' in '${key}' is not supported (supported: ${Object.keys(map).join(', ')})`);
    return map[v];
  }

  check(cond: boolean, msg: string): void {
    if (!cond) this.fail(msg);
  }
}

/** Reads rope_scaling in any of its spellings; undefined for none/default. */
export function parseRopeScaling(f: ConfigFields): RopeConfig['scaling'] {
  const rs = f.object('rope_scaling');
  if (!rs) return undefined;
  const type = (rs.rope_type ?? rs.type) as string | undefined;
  if (type === undefined || type === 'default') return undefined;
  const sub = new ConfigFields(rs, 'rope_scaling');
  if (type === 'llama3')
    return {
      type: 'llama3',
      factor: sub.num('factor'),
      lowFreqFactor: sub.num('low_freq_factor'),
      highFreqFactor: sub.num('high_freq_factor'),
      originalMaxPositions: sub.int('original_max_position_embeddings'),
    };
  if (type === 'linear') return { type: 'linear', factor: sub.num('factor') };
  f.check(false, `rope_scaling type '${type}' is not supported (supported: llama3, linear)`);
  return undefined;
}

/** Model width and head counts: hidden_size, num_attention_heads, num_key_value_heads (default: no GQA). */
export function headGeometry(f: ConfigFields, opts: { gqa: boolean; explicitHeadDim?: boolean }): { D: number; H: number; Hkv: number; dHead: number } {
  const D = f.int('hidden_size');
  const H = f.int('num_attention_heads');
  f.check(H > 0, 'num_attention_heads must be positive');
  const Hkv = opts.gqa ? f.int('num_key_value_heads', H) : H;
  f.check(Hkv > 0 && H % Hkv === 0, `num_attention_heads (${H}) must be a multiple of num_key_value_heads (${Hkv})`);
  const explicit = opts.explicitHeadDim === true && f.has('head_dim');
  f.check(explicit || D % H === 0, `hidden_size (${D}) must be divisible by num_attention_heads (${H})`);
  return { D, H, Hkv, dHead: explicit ? f.int('head_dim') : D / H };
}

/** Rotary dimensions per head from a fraction field (rotary_pct, partial_rotary_factor): a positive even count. */
export function partialRotaryDims(f: ConfigFields, keys: string[], fallback: number, dHead: number): number {
  const frac = f.num(keys, fallback);
  f.check(frac > 0 && frac <= 1, `${keys[0]} must be in (0, 1], got ${frac}`);
  const rd = Math.floor(dHead * frac);
  f.check(rd >= 2 && rd % 2 === 0, `${keys[0]} ${frac} gives ${rd} rotary dimensions per head (head_dim ${dHead}); this must be a positive even number`);
  return rd;
}
