import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerlabError } from '../util/errors.js';
import { resolveInside } from '../util/safe-path.js';
import { cacheEntryRootOf } from './hub/cache.js';
import type { WeightData, WeightDtype } from '../backend/backend.js';
import { bf16ToF32 } from './dtype.js';
import { releaseMapped } from './mmap.js';
import { SafetensorsFile, type TensorEntry } from './safetensors.js';
import { MODEL_FIX } from '../util/fix-hints.js';

export interface CheckpointOptions {
  /** Called on every tensor read, as float32 or bf16 bits (the loader's NaN/Inf scan); throws to reject it. */
  check?: (data: WeightData, name: string, file: string) => void;
}

/**
 * All tensors of a checkpoint folder, whether in one model.safetensors or in shards listed by
 * model.safetensors.index.json. Tensors are read one at a time, on demand.
 */
export class Checkpoint {
  private readonly files = new Map<string, SafetensorsFile>();
  private readonly where = new Map<string, SafetensorsFile>();

  /**
   * The precision the model will multiply in; decides which stored tensors matrix() can hand out as
   * they are. Set by the loader before the adapter reads parameters.
   */
  weightDtype: WeightDtype = 'f32';

  /**
   * Adapters pass every block through this as soon as it is read (`blocks.push(ck.finishBlock({...}))`):
   * the loader uses it to pack a bf16 model layer by layer, so copies made while reading are freed early.
   */
  finishBlock: <T>(block: T) => T = (block) => block;

  private constructor(readonly dir: string, private readonly opts: CheckpointOptions) {}

  static open(dir: string, opts: CheckpointOptions = {}): Checkpoint {
    const ck = new Checkpoint(dir, opts);
    const index = join(dir, 'model.safetensors.index.json');
    const single = join(dir, 'model.safetensors');
    if (existsSync(index)) ck.openSharded(index);
    else if (existsSync(single)) ck.addFile(single);
    else throw new LayerlabError(`no model.safetensors or model.safetensors.index.json (only safetensors checkpoints are supported)${MODEL_FIX}`, dir);
    return ck;
  }

  private addFile(path: string): SafetensorsFile {
    let f = this.files.get(path);
    if (!f) {
      f = SafetensorsFile.open(path);
      this.files.set(path, f);
    }
    for (const name of f.entries.keys()) if (!this.where.has(name)) this.where.set(name, f);
    return f;
  }

  private openSharded(indexPath: string): void {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      throw new LayerlabError(`cannot read shard index (${(e as Error).message})`, indexPath);
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') throw new LayerlabError('shard index has no weight_map', indexPath);
    const shards = new Set(Object.values(index.weight_map));
    // A shard may be a symlink only within the folder, or into the blobs of the hub cache entry it is in.
    const roots = [this.dir, ...cacheEntryRootOf(this.dir)];
    for (const shard of shards) {
      const path = resolveInside(this.dir, shard, 'shard', indexPath, roots);
      if (!existsSync(path)) throw new LayerlabError(`shard '${shard}' is listed in model.safetensors.index.json but missing`, this.dir);
      this.addFile(path);
    }
    for (const [name, shard] of Object.entries(index.weight_map)) {
      const f = this.files.get(join(this.dir, shard))!;
      if (!f.entries.has(name)) throw new LayerlabError(`index says tensor '${name}' is in '${shard}', but that shard lacks it`, indexPath);
      this.where.set(name, f);
    }
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  entry(name: string): TensorEntry & { file: string } {
    const f = this.where.get(name);
    if (!f) throw new LayerlabError(`checkpoint has no tensor '${name}'`, this.dir);
    return { ...f.entry(name), file: f.path };
  }

  /**
   * Checks a tensor's stored shape against the config's; adapters call it before allocating a fused
   * buffer, so a config with wrong sizes fails here rather than after a large allocation.
   */
  checkShape(name: string, expectShape: number[]): TensorEntry & { file: string } {
    const e = this.entry(name);
    if (e.shape.length !== expectShape.length || e.shape.some((d, i) => d !== expectShape[i]))
      throw new LayerlabError(`tensor '${name}' has shape [${e.shape}] but the config implies [${expectShape}]`, e.file);
    return e;
  }

  /** Reads a tensor as float32 and checks its shape when one is expected. */
  read(name: string, expectShape?: number[]): Float32Array {
    const e = expectShape ? this.checkShape(name, expectShape) : this.entry(name);
    const data = this.where.get(name)!.readF32(name);
    this.opts.check?.(data, name, e.file);
    return data;
  }

  /**
   * A weight matrix for computing in `weightDtype`. When the stored tensor can be used as it is (F32 for
   * f32; F32 or BF16 for bf16, which packs it anyway), this is a view into the memory-mapped file: no copy,
   * and the page cache is shared with other processes. Otherwise a float32 copy.
   */
  matrix(name: string, expectShape: number[]): WeightData {
    const file = this.checkShape(name, expectShape).file;
    const f = this.where.get(name)!;
    const e = f.entry(name);
    const usable = e.dtype === 'F32' || (e.dtype === 'BF16' && this.weightDtype === 'bf16');
    const data = (usable ? f.storedView(name) : undefined) ?? (e.dtype === 'BF16' && this.weightDtype === 'bf16' ? f.readBf16Bits(name) : f.readF32(name));
    if (this.opts.check) {
      this.opts.check(data, name, file);
      // The scan read every page of a mapped view; hand them back so the map keeps its promise (embedding
      // rows fault in only when looked up, matrices when used or packed).
      releaseMapped(data);
    }
    return data;
  }

  /**
   * Matrices stacked along their first (output) dimension into one: fused q|k|v, gate|up. A copy, in bf16
   * bits when every part is stored BF16 and the model computes in bf16, else float32.
   */
  stacked(parts: Array<[name: string, shape: number[]]>): WeightData {
    // Every shape is checked before the fused buffer is allocated (a wrong config must not allocate first).
    for (const [name, shape] of parts) this.checkShape(name, shape);
    const total = parts.reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
    const bits = this.weightDtype === 'bf16' && parts.every(([n]) => this.entry(n).dtype === 'BF16');
    const out = bits ? new Uint16Array(total) : new Float32Array(total);
    let at = 0;
    for (const [name, shape] of parts) {
      const part = this.matrix(name, shape);
      if (out instanceof Uint16Array) out.set(part as Uint16Array, at);
      else if (part instanceof Uint16Array) bf16ToF32(part, out.subarray(at, at + part.length));
      else out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Reads a tensor into dst (a view into a larger fused buffer, say), checking its shape. */
  readInto(name: string, dst: Float32Array, expectShape: number[]): void {
    const e = this.checkShape(name, expectShape);
    this.where.get(name)!.readInto(name, dst);
    this.opts.check?.(dst, name, e.file);
  }

  /** Stored dtypes of the floating tensors, for provenance ('F32', 'BF16', ...). */
  dtypes(): string[] {
    return [...new Set([...this.where.keys()].map((n) => this.entry(n).dtype))];
  }

  /** Share of the floating-point elements stored in 16 bits (F16 or BF16). */
  halfPrecisionShare(): number {
    let half = 0, all = 0;
    for (const n of this.where.keys()) {
      const e = this.entry(n);
      if (!['F32', 'F16', 'BF16', 'F64'].includes(e.dtype)) continue;
      const count = e.shape.reduce((a, b) => a * b, 1);
      all += count;
      if (e.dtype === 'F16' || e.dtype === 'BF16') half += count;
    }
    return all ? half / all : 0;
  }

  /** Total bytes of the stored tensors, and what they take as float32. */
  sizes(): { storedBytes: number; f32Bytes: number } {
    let stored = 0, f32 = 0;
    for (const n of this.where.keys()) {
      const e = this.entry(n);
      stored += e.end - e.begin;
      f32 += e.shape.reduce((a, b) => a * b, 1) * 4;
    }
    return { storedBytes: stored, f32Bytes: f32 };
  }

  close(): void {
    for (const f of this.files.values()) f.close();
  }
}
