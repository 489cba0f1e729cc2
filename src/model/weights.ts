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

interface Entry<W> { backend: Backend; dtype: WeightDtype; w: W }

/** Prepared weights by the object that owns them (a Linear, or ModelParams for the unembedding). */
const prepared = new WeakMap<object, Entry<unknown>>();

function cached<W>(owner: object, m: WeightOwner, make: () => W): W {
  const dtype = m.dtype ?? 'f32';
  const hit = prepared.get(owner);
  if (hit && hit.backend === m.backend && hit.dtype === dtype) return hit.w as W;
  const w = make();
  prepared.set(owner, { backend: m.backend, dtype, w });
  return w;
}

/** The Linear ready for backend.matmul in the model's dtype (f32: the weights themselves; bf16: packed once). */
export function preparedLinear(m: WeightOwner, l: Linear): PreparedWeight {
  return cached(l, m, () => m.backend.prepareWeight({ data: l.w, layout: l.layout, inDim: l.inDim, outDim: l.outDim }, m.dtype ?? 'f32'));
}

/**
 * Vocabulary rows per packed block of a bf16 unembedding: the largest power of two up to 2048 whose block
 * is at most 4 MB of bf16, so a block stays in cache across the 32-row calls (768 wide: 2048 rows, 3 MB;
 * 2048 wide: 1024 rows). Measured on Zen 4 (AVX512-BF16, bench/unembed-blocks.ts): 768 wide, 1 thread,
 * writing into the logits, 8192-row blocks ran at ~150 GFLOP/s, 2048-row blocks at ~170, 512-row blocks
 * at ~160 (call overhead); 2048 wide, 2 threads, 1024-row blocks ~405 against ~380 for 2048 and 512.
 */
export function unembedBlockRows(dModel: number): number {
  let rows = 2048;
  while (rows > 512 && rows * dModel * 2 > 4 * 2 ** 20) rows /= 2;
  return rows;
}

/** A block of vocabulary rows of the unembedding, prepared on its own. */
interface UnembedBlock { firstRow: number; w: PreparedWeight }

/**
 * The unembedding W_U [V, D] ready for backend.matmul (logits = x W_Uᵀ). bf16 packs it in blocks of
 * vocabulary rows, releasing each block's stored pages once packed: loading never holds W_U twice,
 * however large the vocabulary. f32 uses W_U as it is, in one piece.
 */
export function preparedUnembed(m: WeightOwner): UnembedBlock[] {
  const p = m.params, D = m.config.dModel, V = m.config.vocabSize, dtype = m.dtype ?? 'f32';
  return cached(p, m, () => {
    const W = p.W_U;
    const step = dtype === 'f32' ? V : unembedBlockRows(D);
    const blocks: UnembedBlock[] = [];
    for (let v0 = 0; v0 < V; v0 += step) {
      const v1 = Math.min(V, v0 + step);
      const data = W.subarray(v0 * D, v1 * D);
      blocks.push({ firstRow: v0, w: m.backend.prepareWeight({ data, layout: 'out_in', inDim: D, outDim: v1 - v0 }, dtype) });
      if (dtype === 'bf16') releaseMapped(data);
    }
    return blocks;
  });
}

/** logits [rows, V] = x W_Uᵀ (+ b_U) for normalized rows x [rows, D]. */
export function unembedInto(m: WeightOwner, x: Float32Array, rows: number, out: Float32Array): Float32Array {
  const V = m.config.vocabSize;
  for (const b of preparedUnembed(m)) m.backend.matmul(x, b.w, rows, b.firstRow === 0 ? out : out.subarray(b.firstRow), V);
  if (m.params.b_U) m.backend.addBias(out, rows, m.params.b_U);
  return out;
}

/**
 * After packing, the stored copy is let go: mapped pages go back to the page cache, converted copies to the
 * garbage collector, and `w` becomes a getter that unpacks the bf16 values the kernels use.
 */
const dropped = new WeakSet<object>();
function dropStored(owner: object, key: string, m: WeightOwner, w: PreparedWeight[]): void {
  if (dropped.has(owner)) return;
  dropped.add(owner);
  const data = (owner as Record<string, unknown>)[key];
  if (data instanceof Float32Array || data instanceof Uint16Array) releaseMapped(data);
  const backend = m.backend;
  const values = () => {
    if (w.length === 1) return backend.weightValues(w[0]);
    const parts = w.map((p) => backend.weightValues(p) as Uint16Array);
    const all = new Uint16Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return all;
  };
  Object.defineProperty(owner, key, { get: values, enumerable: true, configurable: true });
}

/** Packs a block's matrices now (bf16 models), so a loader can free what it read layer by layer. */
export function packBlock(m: WeightOwner, b: BlockParams): BlockParams {
  if ((m.dtype ?? 'f32') === 'f32') return b;
  for (const l of [b.qkv, b.o, b.mlpIn, b.mlpOut]) dropStored(l, 'w', m, [preparedLinear(m, l)]);
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
  dropStored(m.params, 'W_U', m, preparedUnembed(m).map((b) => b.w));
}
