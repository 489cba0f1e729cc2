/**
 * The one contract every analysis implements (docs/ARCHITECTURE.md, "A new analysis"). An analysis is
 * one module exposing an object of one of two kinds:
 *
 * - **streaming** (local attention, logit lens, MLP norm, CKA, layer repeat): folds the corpus in, batch
 *   by batch. It names the hooks it needs, adds each batch to its state, and its state is serializable
 *   (`encode`/`decode`, compact binary) and mergeable (`merge(a, b)`, associative), so a run can split the
 *   corpus into data shards, run them as separate jobs (anywhere), and merge the job states in a fixed
 *   order. `result(state)` gives the body of its result file.
 * - **whole** (neurons from weights; sub-word heads, WiC and span probes from their own inputs; stage
 *   boundaries from the other results): one job computes the result at once.
 *
 * Both kinds name their result file, the validator of that file (src/results/run-files.ts) and the
 * report figure that draws it (src/report/figures/index.ts). The stage runner (src/runs/stages.ts)
 * loops over the registry (src/analyses/registry.ts); it knows no analysis by name.
 */
import type { z } from 'zod';
import type { DocumentSet } from '../data/documents.js';
import type { TextTokenizer } from '../load/tokenizer.js';
import type { HookFn } from '../model/hooks.js';
import type { BaselineBatch } from '../sweep/metrics.js';
import type { Model } from '../model/model.js';
import type { ANALYSIS_FILES, AnalysisName, ResultFiles } from '../results/run-files.js';
import type { CkaOptions } from './cka-analysis.js';
import type { SubwordDatasetOptions, SubwordHeadOptions } from './subword-heads.js';
import type { WeightMode } from './weight-processing.js';
import type { WicOptions } from './wic-probe.js';
import type { IngProbeOptions } from './ing-probe.js';
import type { Protocol } from '../protocol/protocol.js';
import type { JobRunner } from '../runs/job-runner.js';

export interface StagesOptions {
  /** The authors' protocol or layerlab's (default 'layerlab'); see src/protocol/. */
  protocol?: Protocol;
  analyses?: AnalysisName[];
  /** Window length including BOS (default min(nCtx, 512)). */
  seqLen?: number;
  maxTokens?: number;
  maxDocs?: number;
  /** Use only the first N tokens of each document (default: all; under `paper`, seq_len − 1). */
  maxDocTokens?: number;
  /** Most tokens per forward batch (default 4096). */
  batchTokens?: number;
  /** Documents per data shard (one job each); default DEFAULT_SHARD_DOCS (src/runs/shards.ts). */
  shardDocs?: number;
  includeBosAttention?: boolean;
  attentionWindows?: number[];
  neuronMode?: WeightMode;
  neuronThreshold?: number;
  repeatBlockLengths?: number[];
  /** Repeat analysis on windows of the first N documents only (default 10, as the authors' script). */
  repeatDocs?: number;
  cka?: CkaOptions;
  subword?: SubwordDatasetOptions & SubwordHeadOptions;
  wicDir?: string;
  wic?: WicOptions;
  probeFile?: string;
  /** The "-ing" neuron probes' dataset, split and probe settings (src/analyses/ing-probe.ts). */
  ingProbe?: IngProbeOptions;
  sweepDir?: string;
  fresh?: boolean;
  /** Keep a finished run of the same command as it is (layerlab paper resuming). */
  reuseFinished?: boolean;
  /** Progress bar on stderr (default true). */
  progress?: boolean;
  /**
   * The streaming accumulators are saved after a batch when this many seconds passed since the last save
   * (default 5; 0 = after every batch). With real models one batch takes longer, so that is every batch.
   */
  saveEverySeconds?: number;
  /** Called after each streaming batch (batches done, total); an exception stops the run there. */
  onBatch?: (done: number, total: number) => void;
  /** Test hook: the order in which data-shard jobs execute (a permutation); merging order never changes. */
  jobOrder?: (jobs: number) => number[];
  /** Where the streaming jobs run (default: in this process); `--queue` gives the queue coordinator. */
  runner?: JobRunner;
}

/** Finished results of this run by analysis name (derived analyses read them). */
export type StageResults = { [N in AnalysisName]?: ResultFiles[(typeof ANALYSIS_FILES)[N]] };

/** What an analysis may read. */
export interface StageContext {
  model: Model;
  tokenizer: TextTokenizer;
  bos: number;
  corpus: DocumentSet;
  opts: StagesOptions;
  results: StageResults;
  log(msg: string): void;
}

/** One forward batch of windows: ids [batch, seq] and the (corpus-wide) document of each row. */
export interface StreamBatch {
  ids: Int32Array;
  batch: number;
  seq: number;
  docIds: number[];
}

/** What the shared forward pass hands to `add`: the residual points 0..L and the logits, when needed. */
export interface ForwardOutputs {
  /** points[0] = blocks.0.hook_resid_pre, points[i] = blocks.{i-1}.hook_resid_post ([B*T*D] each). */
  points: Float32Array[];
  logits?: Float32Array;
}

/** The body of a result file (the runner adds analysis, provenance and layers) and its choices. */
export interface AnalysisOutput {
  choices: Record<string, unknown>;
  body: Record<string, unknown>;
}

interface AnalysisBase {
  name: AnalysisName;
  /** Result file in the run folder (ANALYSIS_FILES[name]). */
  file: string;
  /** Validator of the result file (RESULT_SCHEMAS[file]). */
  schema: z.ZodType;
  /** Key of the report figure that draws this file (FIGURE_BUILDERS in src/report/figures/index.ts). */
  figure: string;
  /** 0: weights only, 1: streaming over the corpus, 2: own inputs, 3: derived from other results. */
  phase: 0 | 1 | 2 | 3;
  /**
   * The analysis a run of `protocol` uses instead of this one (same name, file, schema and figure), e.g.
   * a whole analysis over the authors' own corpus under `paper`; undefined = this one.
   */
  forProtocol?(protocol: Protocol): Analysis | undefined;
}

export interface StreamingAnalysis<S = unknown> extends AnalysisBase {
  kind: 'streaming';
  needs: {
    /** Residual points 0..L of the shared forward. */
    residuals?: boolean;
    /** Final logits of the shared forward, for this batch. */
    logits?: (batch: StreamBatch, ctx: StageContext) => boolean;
  };
  /** An empty state. */
  init(ctx: StageContext): S;
  /** Hooks consumed during the forward (their tensors may be scratch: read them inside the hook). */
  hooks?(state: S, batch: StreamBatch): Array<{ name: string; fn: HookFn }>;
  /** Folds one batch in (after the forward). */
  add(state: S, batch: StreamBatch, out: ForwardOutputs, ctx: StageContext): void;
  /** End of a data shard: turn partial buffers into mergeable sums (optional). */
  seal?(state: S): void;
  /** a then b; associative; may reuse `a`. */
  merge(a: S, b: S): S;
  encode(state: S): Uint8Array;
  decode(bytes: Uint8Array, ctx: StageContext): S;
  result(state: S, ctx: StageContext): AnalysisOutput;
}

export interface WholeAnalysis extends AnalysisBase {
  kind: 'whole';
  run(ctx: StageContext): AnalysisOutput;
}

export type Analysis = StreamingAnalysis<any> | WholeAnalysis; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A metric of intervened plans (the sweep's metrics.json): the sweep engine runs the plans (a trie of
 * shared prefixes) and hands each batch's baseline and every plan's logits, chunk by chunk. The state is
 * mergeable and serializable like a streaming analysis's, so (plan subtree x data shard) jobs combine.
 */
export interface PlanAnalysis<S = unknown> {
  kind: 'plans';
  name: string;
  file: string;
  schema: z.ZodType;
  figure: string;
  /** An empty state for `plans` plans. */
  init(plans: number): S;
  /** One batch of the original model (rows, logits and their statistics). */
  addBaseline(state: S, base: BaselineBatch): void;
  /** Rows r0..r0+n-1 of plan `plan`'s logits ([n, V]) in that batch. */
  addRows(state: S, plan: number, base: BaselineBatch, logits: Float32Array, r0: number, n: number): void;
  merge(a: S, b: S): S;
  encode(state: S): Uint8Array;
  decode(bytes: Uint8Array): S;
}
