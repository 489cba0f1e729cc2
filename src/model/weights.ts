import type { Backend, PreparedWeight, WeightDtype } from '../backend/index.js';
import { releaseMapped } from '../load/mmap.js';
import type { BlockParams, Linear, ModelParams } from './params.js';

/** What weight preparation needs of a model (a Model, or anything shaped like one). */
export interface WeightOwner {
  params: ModelParams;
  backend: Backend;
  config: { dModel: number; vocabSize: number };
  /** Weight precision; absent means f32. */
  dtype?: WeightDtype;
}

interface Entry { backend: Backend; dtype: WeightDtype; w: PreparedWeight }

/** Prepared weights by the object that owns them (a Linear, or ModelParams for the unembedding). */
const prepared = new WeakMap<object, Entry>();

function cached(owner: object, m: WeightOwner, make: () => PreparedWeight): PreparedWeight {
  const dtype = m.dtype ?? 'f32';
  const hit = prepared.get(owner);
  if (hit && hit.backend === m.backend && hit.dtype === dtype) return hit.w;
  const w = make();
  prepared.set(owner, { backend: m.backend, dtype, w });
  return w;
}

/** The Linear ready for backend.matmul in the model's dtype (f32: the weights themselves; bf16: packed once). */
export function preparedLinear(m: WeightOwner, l: Linear): PreparedWeight {
  return cached(l, m, () => m.backend.prepareWeight({ data: l.w, layout: l.layout, inDim: l.inDim, outDim: l.outDim }, m.dtype ?? 'f32'));
}

/** The unembedding W_U [V, D] ready for backend.matmul (logits = x W_Uᵀ). */
export function preparedUnembed(m: WeightOwner): PreparedWeight {
  const p = m.params;
  return cached(p, m, () => m.backend.prepareWeight({ data: p.W_U, layout: 'out_in', inDim: m.config.dModel, outDim: m.config.vocabSize }, m.dtype ?? 'f32'));
}

/** logits [rows, V] = x W_Uᵀ (+ b_U) for normalized rows x [rows, D]. */
export function unembedInto(m: WeightOwner, x: Float32Array, rows: number, out: Float32Array): Float32Array {
  m.backend.matmul(x, preparedUnembed(m), rows, out);
  if (m.params.b_U) m.backend.addBias(out, rows, m.params.b_U);
  return out;
}

/**
 * After packing, the stored copy is let go: mapped pages go back to the page cache, converted copies to the
 * garbage collector, and `w` becomes a getter that unpacks the bf16 values the kernels use.
 */
const dropped = new WeakSet<object>();
function dropStored(owner: object, key: string, m: WeightOwner, w: PreparedWeight): void {
  if (dropped.has(owner)) return;
  dropped.add(owner);
  const data = (owner as Record<string, unknown>)[key];
  if (data instanceof Float32Array || data instanceof Uint16Array) releaseMapped(data);
  const backend = m.backend;
  Object.defineProperty(owner, key, { get: () => backend.weightValues(w), enumerable: true, configurable: true });
}

/** Packs a block's matrices now (bf16 models), so a loader can free what it read layer by layer. */
export function packBlock(m: WeightOwner, b: BlockParams): BlockParams {
  if ((m.dtype ?? 'f32') === 'f32') return b;
  for (const l of [b.qkv, b.o, b.mlpIn, b.mlpOut]) dropStored(l, 'w', m, preparedLinear(m, l));
  return b;
}

/**
 * Packs every matrix of a bf16 model (a no-op for f32: f32 weights are used as they are). The token
 * embedding stays as stored (a lookup reads a few rows; mapped, it costs nothing until read).
 */
export function packWeights(m: WeightOwner): void {
  if ((m.dtype ?? 'f32') === 'f32') return;
  for (const b of m.params.blocks) packBlock(m, b);
  // Tied: W_E keeps the stored view (its pages are released too and fault back row by row).
  dropStored(m.params, 'W_U', m, preparedUnembed(m));
}
