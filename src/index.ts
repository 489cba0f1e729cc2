/**
 * layerlab's library API. The CLI (src/cli) is a thin layer over these; see docs/ARCHITECTURE.md.
 */
export { getBackend, setBackend, JsBackend, type Backend, type BackendInfo } from './backend/index.js';
export { SafetensorsFile, writeSafetensors } from './load/safetensors.js';
export { Checkpoint } from './load/checkpoint.js';
export { loadTokenizer, type TextTokenizer } from './load/tokenizer.js';
export { resolveModel } from './load/hub/resolve.js';
export { loadModel } from './load/load-model.js';
export { BUNDLED } from './load/bundled.js';
export { loadModelDir, loadConfig, type Model } from './model/model.js';
export type { ModelConfig } from './model/config.js';
export type { ModelParams, Linear, BlockParams } from './model/params.js';
export { forward, defaultPlan, validatePlan, type ForwardOptions, type ForwardResult } from './model/forward.js';
export { Executor } from './model/executor.js';
export { HookRunner, allHookNames, type HookFn, type HookContext, type HookOptions } from './model/hooks.js';
export { greedyGenerate } from './model/generate.js';
export { randomModel } from './model/random.js';
export { ADAPTERS, supportedModelTypes } from './model/adapters/registry.js';
export { LayerlabError } from './util/errors.js';
export type * from './results/schema.js';
export * from './stats/index.js';
