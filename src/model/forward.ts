import { LayerlabError } from '../util/errors.js';
import { Executor, type ModelLike } from './executor.js';
import { HookRunner, type HookOptions } from './hooks.js';
import type { Tensor } from './tensor.js';

export interface ForwardOptions extends HookOptions {
  /** Block indices in execution order; default 0..L-1. */
  plan?: readonly number[];
  /** Skip the unembedding (when only activations are wanted). */
  skipLogits?: boolean;
}

export interface ForwardResult {
  /** [B, T, V] */
  logits?: Tensor;
  /** Requested activations by hook name. */
  cache: Map<string, Tensor>;
  plan: number[];
}

export function defaultPlan(nLayers: number): number[] {
  return Array.from({ length: nLayers }, (_, i) => i);
}

/** Checks a plan against the model: integers naming existing blocks. */
export function validatePlan(plan: readonly number[], nLayers: number): number[] {
  for (const l of plan)
    if (!Number.isInteger(l) || l < 0 || l >= nLayers)
      throw new LayerlabError(`plan [${plan.join(',')}] names block ${l}, but the model has blocks 0..${nLayers - 1}`);
  return [...plan];
}

/** Token ids as a batch: rows of equal length. */
export function toBatch(rows: number[][] | Int32Array, batch?: number, seq?: number): { ids: Int32Array; batch: number; seq: number } {
  if (rows instanceof Int32Array) {
    if (!batch || !seq || batch * seq !== rows.length) throw new Error('Int32Array input needs batch * seq === length');
    return { ids: rows, batch, seq };
  }
  if (rows.length === 0 || rows[0].length === 0) throw new LayerlabError('input is empty: need at least one row with at least one token');
  const T = rows[0].length;
  const ids = new Int32Array(rows.length * T);
  rows.forEach((r, b) => {
    if (r.length !== T) throw new LayerlabError(`input rows must have equal length (row 0 has ${T} tokens, row ${b} has ${r.length}); there is no padding`);
    r.forEach((id, t) => {
      if (!Number.isInteger(id)) throw new LayerlabError(`token at row ${b}, position ${t} is not an integer: ${JSON.stringify(id)}`);
      // Beyond int32 an id would wrap silently into a valid one when stored in the Int32Array below.
      if (Math.abs(id) > 2 ** 31 - 1) throw new LayerlabError(`token id ${id} at position ${t} of row ${b} is outside the vocabulary`);
      ids[b * T + t] = id;
    });
  });
  return { ids, batch: rows.length, seq: T };
}

export type BlockFn = (resid: Float32Array, layer: number, slot: number) => Float32Array;

/**
 * Runs `blocks` in plan slots firstSlot, firstSlot + 1, ... from a residual stream: the embedding, or
 * the cached residual of a shared plan prefix (the sweep's trie). `block` defaults to the executor's.
 */
export function runPlan(ex: Executor, resid: Float32Array, blocks: readonly number[], firstSlot = 0, block: BlockFn = (r, l, s) => ex.block(r, l, s)): Float32Array {
  for (let i = 0; i < blocks.length; i++) resid = block(resid, blocks[i], firstSlot + i);
  return resid;
}

/** A full forward pass along a plan, with hooks. */
export function forward(model: ModelLike, input: number[][] | { ids: Int32Array; batch: number; seq: number }, opts: ForwardOptions = {}): ForwardResult {
  const { ids, batch, seq } = Array.isArray(input) ? toBatch(input) : input;
  const plan = validatePlan(opts.plan ?? defaultPlan(model.config.nLayers), model.config.nLayers);
  const hooks = new HookRunner(opts, plan);
  const ex = new Executor(model, batch, seq, hooks);
  const resid = runPlan(ex, ex.embed(ids), plan);
  const normed = ex.finalNorm(resid);
  const logits = opts.skipLogits ? undefined : { data: ex.unembed(normed), shape: [batch, seq, model.config.vocabSize] };
  return { logits, cache: hooks.cache, plan };
}
