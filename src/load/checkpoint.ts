import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerlabError } from '../util/errors.js';
import { resolveInside } from '../util/safe-path.js';
import { cacheEntryRootOf } from './hub/cache.js';
import { SafetensorsFile, type TensorEntry } from './safetensors.js';
import { MODEL_FIX } from '../util/fix-hints.js';

export interface CheckpointOptions {
  /** Called on every tensor read, as float32 (the loader's NaN/Inf scan); throws to reject it. */
  check?: (data: Float32Array, name: string, file: string) => void;
}

/**
 * All tensors of a checkpoint folder, whether in one model.safetensors or in shards listed by
 * model.safetensors.index.json. Tensors are read one at a time, on demand.
 */
export class Checkpoint {
  private readonly files = new Map<string, SafetensorsFile>();
  private readonly where = new Map<string, SafetensorsFile>();

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
