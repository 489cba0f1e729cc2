import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend, type Backend } from '../backend/index.js';
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

export interface ModelSource {
  dir: string;
  /** Hub id and revision when loaded by name. */
  modelId?: string;
  revision?: string;
  commit?: string;
  /** Stored dtypes of the checkpoint tensors (computation is always float32). */
  storedDtypes: string[];
}

export interface Model {
  config: ModelConfig;
  params: ModelParams;
  backend: Backend;
  source: ModelSource;
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

/** Loads a model folder (config.json + safetensors) into float32 canonical parameters. */
export function loadModelDir(dir: string, extra: Partial<ModelSource> = {}, backend: Backend = getBackend()): Model {
  const { adapter, config } = adapterAndConfig(dir);
  // Every weight is scanned once for NaN/Inf as it is read (one vectorized pass), naming the tensor.
  const ck = Checkpoint.open(dir, { check: (data, name, file) => assertFiniteTensor(backend, data, name, file) });
  try {
    checkNoUnusedLayers(ck.names(), config.nLayers, dir);
    // The config's sizes count too: the fused buffers they imply are allocated before shapes are compared.
    checkMemoryFor(Math.max(ck.sizes().f32Bytes, parameterCount(config) * 4), dir);
    const params = adapter.loadParams(ck, config);
    return { config, params, backend, source: { dir, storedDtypes: ck.dtypes(), ...extra } };
  } finally {
    ck.close();
  }
}
