import type { Tensor } from './tensor.js';

/**
 * Hook points use the TransformerLens vocabulary, indexed by *slot* (position in the plan):
 *   hook_embed, hook_pos_embed, blocks.{slot}.hook_resid_pre|hook_resid_mid|hook_resid_post|hook_attn_out|
 *   hook_mlp_out, blocks.{slot}.ln1.hook_normalized, blocks.{slot}.ln2.hook_normalized,
 *   blocks.{slot}.attn.hook_q|hook_k|hook_v|hook_rot_q|hook_rot_k|hook_z|hook_attn_scores|hook_pattern,
 *   blocks.{slot}.mlp.hook_pre|hook_pre_linear|hook_post, ln_final.hook_normalized.
 * Because a plan may run block 5 in slot 4, each hook is also told the source layer (ctx.layer).
 */
export const BLOCK_HOOKS = [
  'hook_resid_pre', 'ln1.hook_normalized', 'attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_rot_q', 'attn.hook_rot_k',
  'attn.hook_attn_scores', 'attn.hook_pattern', 'attn.hook_z', 'hook_attn_out', 'hook_resid_mid', 'ln2.hook_normalized',
  'mlp.hook_pre', 'mlp.hook_pre_linear', 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post',
] as const;
export const GLOBAL_HOOKS = ['hook_embed', 'hook_pos_embed', 'ln_final.hook_normalized'] as const;

export interface HookContext {
  name: string;
  /** Position in the plan (undefined for embedding/final hooks). */
  slot?: number;
  /** Block whose weights run in this slot. */
  layer?: number;
  plan: readonly number[];
}

/** Reads a tensor, or returns a replacement of the same shape. */
export type HookFn = (t: Tensor, ctx: HookContext) => Tensor | Float32Array | void;

/** A name, a glob with `*` (e.g. `blocks.*.hook_resid_post`), or a predicate. */
export type HookSelector = string | ((name: string) => boolean);

export interface HookOptions {
  hooks?: Array<{ name: HookSelector; fn: HookFn }>;
  /** Activations to keep and return (copied, so later work cannot change them). */
  cache?: HookSelector[];
}

/** A predicate for a hook selector (exact name, `*` glob within one name part, or a function). */
export function hookMatcher(sel: HookSelector): (name: string) => boolean {
  if (typeof sel === 'function') return sel;
  if (!sel.includes('*')) return (n) => n === sel;
  const re = new RegExp('^' + sel.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*') + '$');
  return (n) => re.test(n);
}

/** Every hook name a forward over `slots` blocks can produce (for validating user input and listing). */
export function allHookNames(slots: number): string[] {
  const names: string[] = [...GLOBAL_HOOKS.slice(0, 2)];
  for (let s = 0; s < slots; s++) for (const h of BLOCK_HOOKS) names.push(`blocks.${s}.${h}`);
  names.push(GLOBAL_HOOKS[2]);
  return names;
}

export class HookRunner {
  readonly cache = new Map<string, Tensor>();
  private readonly hookList: Array<{ match: (n: string) => boolean; fn: HookFn }>;
  private readonly cacheList: Array<(n: string) => boolean>;
  private readonly wantMemo = new Map<string, boolean>();

  constructor(opts: HookOptions, readonly plan: readonly number[]) {
    this.hookList = (opts.hooks ?? []).map((h) => ({ match: hookMatcher(h.name), fn: h.fn }));
    this.cacheList = (opts.cache ?? []).map(hookMatcher);
  }

  /** True when the forward must materialize this activation. */
  wants(name: string): boolean {
    let w = this.wantMemo.get(name);
    if (w === undefined) {
      w = this.cacheList.some((m) => m(name)) || this.hookList.some((h) => h.match(name));
      this.wantMemo.set(name, w);
    }
    return w;
  }

  /** True when some hook may replace this activation (not just cache it). */
  hooked(name: string): boolean {
    return this.hookList.some((h) => h.match(name));
  }

  /**
   * Runs the hooks of `name` on t and caches the result when asked. Returns the tensor to continue
   * with (t itself, or a hook's replacement). `scratch` says t's buffer will be reused, so a cached
   * value must be a copy.
   */
  run(name: string, t: Tensor, slot: number | undefined, scratch: boolean): Tensor {
    if (!this.wants(name)) return t;
    let cur = t;
    const ctx: HookContext = { name, slot, layer: slot === undefined ? undefined : this.plan[slot], plan: this.plan };
    for (const h of this.hookList) {
      if (!h.match(name)) continue;
      const r = h.fn(cur, ctx);
      if (r === undefined) continue;
      const next = r instanceof Float32Array ? { data: r, shape: cur.shape } : r;
      if (next.data.length !== cur.data.length || next.shape.join() !== cur.shape.join())
        throw new Error(`hook on '${name}' returned shape [${next.shape}] (${next.data.length} values); expected [${cur.shape}]`);
      cur = next;
    }
    if (this.cacheList.some((m) => m(name))) {
      const keep = scratch && cur === t ? { data: cur.data.slice(), shape: [...cur.shape] } : cur;
      this.cache.set(name, keep);
    }
    return cur;
  }
}
