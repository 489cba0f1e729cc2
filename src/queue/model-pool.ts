/**
 * The models a worker keeps loaded: at most `capacity` (default 2), the least recently used dropped
 * first, so consecutive jobs of one run load their model once. A model is found only where the worker
 * was told to look: a folder name under --models (one path component, resolved and checked to stay
 * inside), or a Hub id through the worker's own Hugging Face cache (downloaded there when missing); both
 * only when they match --allow-models. The worker then compares the model's digest with the job's.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { resolveHubModel } from '../load/hub/resolve.js';
import { loadModelDir, type Model } from '../model/model.js';
import { JobRejected, modelRefText, type ModelRef } from './job-codec.js';
import { modelDigest } from './model-digest.js';

export interface PoolOptions {
  /** Folder holding model folders (`--models`). */
  modelsDir?: string;
  /** Glob patterns (`*` = any text) a model's Hub id or folder name must match (`--allow-models`). */
  allow: string[];
  capacity?: number;
}

export interface PooledModel {
  model: Model;
  digest: string;
  name: string;
}

/** `a*b` style patterns, anchored; nothing else is special. */
export function matchesPattern(name: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

export class ModelPool {
  private readonly loaded = new Map<string, PooledModel>();

  constructor(private readonly opts: PoolOptions) {}

  names(): string[] {
    return [...this.loaded.values()].map((m) => m.name);
  }

  async get(ref: ModelRef, dtype: 'f32' | 'bf16'): Promise<PooledModel> {
    const name = modelRefText(ref);
    const key = `${name}#${dtype}`;
    const hit = this.loaded.get(key);
    if (hit) {
      this.loaded.delete(key);
      this.loaded.set(key, hit); // most recently used last
      return hit;
    }
    const allowName = 'hub' in ref ? ref.hub : ref.folder;
    if (!this.opts.allow.some((p) => matchesPattern(allowName, p))) throw new JobRejected(`model ${name} is not allowed on this worker (--allow-models ${this.opts.allow.join(',')})`);
    const where = 'hub' in ref ? await resolveHubModel(`${ref.hub}@${ref.revision}`) : { dir: this.folder(ref.folder), modelId: undefined, revision: undefined, commit: undefined };
    const model = loadModelDir(where.dir, { modelId: where.modelId, revision: where.revision, commit: where.commit }, undefined, { dtype });
    if (model.dtype !== dtype) throw new JobRejected(`model ${name}: this worker cannot run it as ${dtype} (${model.dtypeDecision.reason})`);
    const entry = { model, digest: modelDigest(where.dir), name };
    this.loaded.set(key, entry);
    while (this.loaded.size > (this.opts.capacity ?? 2)) this.loaded.delete(this.loaded.keys().next().value!);
    return entry;
  }

  /** A model folder under --models, symlinks resolved, never outside it. */
  private folder(name: string): string {
    const root = this.opts.modelsDir;
    if (!root) throw new JobRejected(`the job names model folder '${name}', but this worker has no --models folder`);
    const p = join(root, name);
    if (!existsSync(p) || !statSync(p).isDirectory()) throw new JobRejected(`model folder '${name}' is not in ${root} on this worker`);
    const rel = relative(realpathSync(root), realpathSync(p));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new JobRejected(`model folder '${name}' resolves outside ${root} on this worker`);
    return p;
  }
}
