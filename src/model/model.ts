import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend, type Backend, type WeightDtype } from '../backend/index.js';
import { Checkpoint } from '../load/checkpoint.js';
import { LayerlabError } from '../util/errors.js';
import { adapterFor } from './adapters/registry.js';
import type { FamilyAdapter } from './adapters/types.js';
import { parameterCount, type ModelConfig } from './config.js';
import type { ModelParams } from './params.js';
import { checkMemoryFor } from './memory.js';
import { checkConfigSizes, checkNoUnusedLayers } from './config-check.js';
import { assertFiniteTensor } from './finite.js';
import { MODEL_FIX } from '../util/fix-hints.js';
import { decideDtype, type DtypeChoice, type DtypeDecision } from './dtype-choice.js';
import { packBlock, packWeights } from './weights.js';

export interface ModelSource {
  dir: string;
  /** Hub id and revision when loaded by name. */
  modelId?: string;
  revision?: string;
  commit?: string;
  /** Stored dtypes of the checkpoint tensors. */
  storedDtypes: string[];
}

export interface Model {
  config: ModelConfig;
  params: ModelParams;
  backend: Backend;
  source: ModelSource;
  /**
   * Precision of the weight matrices: 'bf16' multiplies bf16 weights (packed for oneDNN) with f32
   * accumulation; the residual stream, norms, softmax, attention scores and metrics are f32 either way.
   */
  dtype: WeightDtype;
  /** How the dtype was decided (and a notice when bf16 runs without bf16 instructions). */
  dtypeDecision: DtypeDecision;
}

export interface LoadOptions {
  /** f32 (default), bf16, or auto (bf16 where the CPU has bf16 instructions and the checkpoint is 16-bit). */
  dtype?: DtypeChoice;
}

export function readConfigJson(dir: string): Record<string, unknown> {
  const file = join(dir, 'config.json');
  if (!existsSync(dir)) throw new LayerlabError(`model folder does not exist${MODEL_FIX}`, dir);
  if (!existsSync(file)) throw new LayerlabError(`no config.json: not a Hugging Face model folder${MODEL_FIX}`, dir);
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object');
    return raw;
  } catch (e) {
    throw new LayerlabError(`cannot parse (${(e as Error).message})`, file);
  }
}

/** The family adapter for a model folder and the config it parses from config.json. */
function adapterAndConfig(dir: string): { adapter: FamilyAdapter; config: ModelConfig } {
  const raw = readConfigJson(dir);
  const file = join(dir, 'config.json');
  const adapter = adapterFor(raw.model_type, file);
  const config = adapter.parseConfig(raw, file);
  checkConfigSizes(config, file);
  return { adapter, config };
}

/** Reads config.json only (no weights). */
export function loadConfig(dir: string): ModelConfig {
  return adapterAndConfig(dir).config;
}

/**
 * Loads a model folder (config.json + safetensors) into canonical parameters. Weights usable as stored
 * are views into the memory-mapped files; a bf16 model packs each block's matrices as it is read.
 */
export function loadModelDir(dir: string, extra: Partial<ModelSource> = {}, backend: Backend = getBackend(), opts: LoadOptions = {}): Model {
  const { adapter, config } = adapterAndConfig(dir);
  // Every weight is scanned once for NaN/Inf as it is read (one vectorized pass), naming the tensor.
  const ck = Checkpoint.open(dir, { check: (data, name, file) => assertFiniteTensor(backend, data, name, file) });
  try {
    checkNoUnusedLayers(ck.names(), config.nLayers, dir);
    const dtypeDecision = decideDtype(opts.dtype ?? 'f32', ck.halfPrecisionShare(), backend);
    const dtype = dtypeDecision.dtype;
    // The config's sizes count too: the fused buffers they imply are allocated before shapes are compared.
    const f32Bytes = Math.max(ck.sizes().f32Bytes, parameterCount(config) * 4);
    checkMemoryFor(dtype === 'bf16' ? f32Bytes / 2 : f32Bytes, dir, dtype);
    ck.weightDtype = dtype;
    const owner = { backend, config, dtype, params: undefined as unknown as ModelParams };
    ck.finishBlock = (block) => packBlock(owner, block as never) as typeof block;
    const params = adapter.loadParams(ck, config);
    const model: Model = { config, params, backend, dtype, dtypeDecision, source: { dir, storedDtypes: ck.dtypes(), ...extra } };
    packWeights(model);
    return model;
  } finally {
    ck.close();
  }
}
