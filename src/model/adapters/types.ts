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

/**
 * Sizes above this are rejected at parse: native kernels index with 32-bit ints, and no real model has a
 * dimension near it (a larger value is a typo or a hostile file, which would otherwise fail as a RangeError
 * deep in allocation).
 */
export const MAX_CONFIG_SIZE = 2 ** 31 - 1;

/** Typed access to config.json fields with errors that name the file and the field. */
export class ConfigFields {
  /** `prefix` names a nested object in messages (e.g. 'rope_scaling.'). */
  constructor(private readonly raw: Record<string, unknown>, private readonly file: string, private readonly prefix = '') {}

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
      this.fail(`required field '${this.prefix}${list[0]}' is missing`);
    }
    const [k, v] = hit;
    if (typeof v !== 'number' || !ok(v)) this.fail(`field '${this.prefix}${k}' must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A non-negative integer where 0 has a meaning (e.g. sliding_window 0 = none). */
  int(keys: string | string[], fallback?: number): number {
    return this.number(keys, fallback, (v) => Number.isInteger(v) && v >= 0 && v <= MAX_CONFIG_SIZE, `a non-negative integer up to ${MAX_CONFIG_SIZE}`);
  }

  /** A size (layers, widths, heads, vocabulary, context): a positive integer of plausible magnitude. */
  size(keys: string | string[], fallback?: number): number {
    return this.number(keys, fallback, (v) => Number.isInteger(v) && v >= 1 && v <= MAX_CONFIG_SIZE, `a positive integer up to ${MAX_CONFIG_SIZE}`);
  }

  num(keys: string | string[], fallback?: number): number {
    return this.number(keys, fallback, Number.isFinite, 'a finite number');
  }

  /** A strictly positive finite number: norm epsilons, rope theta, scaling factors (0 or less gives NaN/Inf). */
  positive(keys: string | string[], fallback?: number): number {
    return this.number(keys, fallback, (v) => Number.isFinite(v) && v > 0, 'a positive finite number');
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.raw[key];
    if (typeof v !== 'boolean') this.fail(`field '${this.prefix}${key}' must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback?: string): string {
    if (!this.has(key)) {
      if (fallback !== undefined) return fallback;
      this.fail(`required field '${key}' is missing`);
    }
    const v = this.raw[key];
    if (typeof v !== 'string') this.fail(`field '${this.prefix}${key}' must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /**
   * bos/eos ids may be a number or a list (first is used); absent or null gives undefined. An id must lie
   * inside the vocabulary, else every window would start with a token the model cannot embed.
   */
  tokenId(key: string, vocabSize: number): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    const id = Array.isArray(v) ? v[0] : v;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      this.fail(`field '${this.prefix}${key}' must be a non-negative integer token id (or a list of them), got ${JSON.stringify(v)}`);
    if (id >= vocabSize) this.fail(`field '${this.prefix}${key}' is ${id}, outside the vocabulary (vocab_size ${vocabSize})`);
    return id;
  }

  /** A nested object; absent or null gives undefined, any other type is an error naming the field. */
  object(key: string): Record<string, unknown> | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(`field '${this.prefix}${key}' must be an object or null, got ${JSON.stringify(v)}`);
    return v as Record<string, unknown>;
  }

  /** A nested object's fields, with errors naming this file and 'key.field'. */
  nested(key: string): ConfigFields | undefined {
    const o = this.object(key);
    return o && new ConfigFields(o, this.file, `${this.prefix}${key}.`);
  }

  activation(key: string, fallback: string): 'gelu_new' | 'gelu' | 'silu' | 'relu' {
    const v = this.str(key, fallback);
    const map: Record<string, 'gelu_new' | 'gelu' | 'silu' | 'relu'> = {
      gelu_new: 'gelu_new', gelu_pytorch_tanh: 'gelu_new', gelu_fast: 'gelu_new', gelu: 'gelu', silu: 'silu', swish: 'silu', relu: 'relu',
    };
    if (!Object.hasOwn(map, v)) this.fail(`activation '${v}' in '${this.prefix}${key}' is not supported (supported: ${Object.keys(map).join(', ')})`);
    return map[v];
  }

  check(cond: boolean, msg: string): void {
    if (!cond) this.fail(msg);
  }
}

/** Reads rope_scaling in any of its spellings; undefined for none/default. */
export function parseRopeScaling(f: ConfigFields): RopeConfig['scaling'] {
  const sub = f.nested('rope_scaling');
  if (!sub) return undefined;
  const type = ropeScalingType(f);
  if (type === undefined || type === 'default') return undefined;
  if (type === 'llama3') {
    const scaling = {
      type: 'llama3' as const,
      factor: sub.positive('factor'),
      lowFreqFactor: sub.positive('low_freq_factor'),
      highFreqFactor: sub.positive('high_freq_factor'),
      originalMaxPositions: sub.size('original_max_position_embeddings'),
    };
    // The smooth blend between the two divides by their difference.
    sub.check(scaling.highFreqFactor > scaling.lowFreqFactor, `rope_scaling.high_freq_factor (${scaling.highFreqFactor}) must be larger than rope_scaling.low_freq_factor (${scaling.lowFreqFactor})`);
    return scaling;
  }
  if (type === 'linear') return { type: 'linear', factor: sub.positive('factor') };
  f.check(false, `rope_scaling type '${type}' is not supported (supported: llama3, linear)`);
  return undefined;
}

/** rope_scaling's rope_type (or legacy type): a string or absent; anything else is an error naming the field. */
export function ropeScalingType(f: ConfigFields): string | undefined {
  const sub = f.nested('rope_scaling');
  if (!sub) return undefined;
  const key = sub.has('rope_type') ? 'rope_type' : 'type';
  return sub.has(key) ? sub.str(key) : undefined;
}

/** Model width and head counts: hidden_size, num_attention_heads, num_key_value_heads (default: no GQA). */
export function headGeometry(f: ConfigFields, opts: { gqa: boolean; explicitHeadDim?: boolean }): { D: number; H: number; Hkv: number; dHead: number } {
  const D = f.size('hidden_size');
  const H = f.size('num_attention_heads');
  const Hkv = opts.gqa ? f.size('num_key_value_heads', H) : H;
  f.check(H % Hkv === 0, `num_attention_heads (${H}) must be a multiple of num_key_value_heads (${Hkv})`);
  const explicit = opts.explicitHeadDim === true && f.has('head_dim');
  f.check(explicit || D % H === 0, `hidden_size (${D}) must be divisible by num_attention_heads (${H})`);
  return { D, H, Hkv, dHead: explicit ? f.size('head_dim') : D / H };
}

/** Rotary dimensions per head from a fraction field (rotary_pct, partial_rotary_factor): a positive even count. */
export function partialRotaryDims(f: ConfigFields, keys: string[], fallback: number, dHead: number): number {
  const frac = f.num(keys, fallback);
  f.check(frac > 0 && frac <= 1, `${keys[0]} must be in (0, 1], got ${frac}`);
  const rd = Math.floor(dHead * frac);
  f.check(rd >= 2 && rd % 2 === 0, `${keys[0]} ${frac} gives ${rd} rotary dimensions per head (head_dim ${dHead}); this must be a positive even number`);
  return rd;
}
