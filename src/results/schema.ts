/**
 * The on-disk result formats: what `sweep` and `stages` write and `report` reads. Every file carries the
 * same provenance block. A run directory holds manifest.json plus one JSON per analysis; a file is
 * written (atomically) only when its analysis is complete, and progress.json/checkpoint files hold the
 * partial state of an interrupted run.
 */
import type { Provenance } from '../util/provenance.js';

/** Mean with error bars; std is the sample std over pooled tokens, sem the per-document standard error. */
export interface Stat {
  count: number;
  mean: number | null;
  std: number | null;
  sem: number | null;
}

/** The data a run read and how it turned text into model inputs. */
export interface DataProvenance {
  file: string;
  sha256: string;
  format: 'text' | 'jsonl' | 'parquet';
  documents: number;
  windows: number;
  /** Non-BOS tokens. */
  tokens: number;
  seqLen: number;
  maxTokens?: number;
  maxDocs?: number;
}

export interface Manifest {
  kind: 'sweep' | 'stages' | 'paper' | 'evaluate';
  provenance: Provenance;
  data?: DataProvenance;
  /** Every choice that changes numbers, in words and values (positions, pooling, KL direction, ...). */
  choices: Record<string, unknown>;
  /** Analyses or intervention kinds requested, and which are complete. */
  requested: string[];
  complete: string[];
  /** Set on a finished run. */
  finishedAt?: string;
  command: string[];
}

// ---------- sweep (DIR/metrics.json) ----------

export type InterventionKind = 'delete' | 'swap' | 'repeat' | 'plan';

export interface SweepMetrics {
  /** Positions scored for KL/agreement/entropy (every non-BOS position); the loss uses as many (t = 0..T-2). */
  tokens: number;
  /** Documents the tokens came from (the units of the standard errors). */
  docs: number;
  kl_mean: number;
  kl_std: number;
  kl_sem: number;
  agreement: number;
  agreement_std: number;
  agreement_sem: number;
  accuracy: number;
  accuracy_std: number;
  accuracy_sem: number;
  accuracy_baseline: number;
  loss: number;
  loss_std: number;
  loss_sem: number;
  loss_baseline: number;
  entropy_bits: number;
  entropy_bits_std: number;
  entropy_bits_sem: number;
  entropy_bits_baseline: number;
}

export interface InterventionRow extends SweepMetrics {
  kind: InterventionKind;
  /** First block touched by the intervention (-1 for a custom plan equal to the original order). */
  layer: number;
  /** Block list executed. */
  plan: number[];
  /** layer / (L - 1). */
  relative_depth: number;
  /** Short label (delete_3, swap_0, repeat5_2, plan_0-1-3-2). */
  name: string;
  /** Plan-wide differences: loss - loss_baseline, entropy_bits - entropy_bits_baseline. */
  loss_delta: number;
  entropy_bits_delta: number;
}

export interface SweepBaseline {
  plan: number[];
  tokens: number;
  docs: number;
  loss: number;
  loss_std: number;
  loss_sem: number;
  accuracy: number;
  accuracy_std: number;
  accuracy_sem: number;
  entropy_bits: number;
  entropy_bits_std: number;
  entropy_bits_sem: number;
}

export interface SweepSummary {
  interventions: number;
  mean_agreement: number;
  /** Same mean without the interventions that touch the first block or the last block (layer 0 / L-1 for delete, 0 / L-2 for swap). */
  mean_agreement_excluding_ends: number | null;
  min_agreement: number;
  max_agreement: number;
  mean_kl: number;
  definition: string;
}

export interface SweepResult {
  provenance: Provenance;
  /** Number of blocks L of the model. */
  layers: number;
  data?: DataProvenance;
  /** Same as manifest.json's choices. */
  choices?: Record<string, unknown>;
  baseline: SweepBaseline;
  interventions: InterventionRow[];
  /** Mean agreement over all interventions of a kind ("retains 72-95%" in the paper). */
  summary: Record<string, SweepSummary>;
}

// ---------- stages (DIR/<analysis>.json) ----------

export interface StageFileBase {
  analysis: string;
  provenance: Provenance;
  choices: Record<string, unknown>;
  /** Number of blocks L. */
  layers: number;
}

export interface LocalAttentionResult extends StageFileBase {
  analysis: 'local-attention';
  windows: number[];
  includeBos: boolean;
  /** One entry per layer 0..L-1. */
  perLayer: Array<{ layer: number; relativeDepth: number; windows: Record<string, Stat>; prev5: Stat }>;
}

export interface SubwordHeadsResult extends StageFileBase {
  analysis: 'subword-heads';
  examples: { multi: number; single: number; multiTokens: number };
  /** Every head, best first: mean attention from the last sub-token to the first, multi vs single. */
  heads: Array<{ layer: number; head: number; score: number; multi: Stat; single: Stat }>;
  /** Attention rows of the best head for the heatmap: last query to the last `width` keys. */
  heatmap: { layer: number; head: number; width: number; multi: Array<{ word: string; tokens: string[]; attention: number[] }>; single: Array<{ word: string; tokens: string[]; attention: number[] }> };
}

export interface LogitLensResult extends StageFileBase {
  analysis: 'logit-lens';
  /** L+1 points: 0 = embeddings, i = after block i-1. */
  perPoint: Array<{ point: number; relativeDepth: number; entropyBits: Stat; klBits: Stat; agreement: Stat; rankOfFinalTop1: Stat }>;
}

export interface NeuronsResult extends StageFileBase {
  analysis: 'neurons';
  mode: 'tl' | 'raw';
  threshold: number;
  perLayer: Array<{ layer: number; relativeDepth: number; dMlp: number; prediction: number; suppression: number; predictionDensity: number; suppressionDensity: number }>;
  /** Strongest neurons by kurtosis, for inspection. */
  top: Array<{ layer: number; neuron: number; kurtosis: number; skew: number; kind: 'prediction' | 'suppression' }>;
}

export interface MlpNormResult extends StageFileBase {
  analysis: 'mlp-norm';
  perLayer: Array<{ layer: number; relativeDepth: number; norm: Stat }>;
}

export interface RepeatResult extends StageFileBase {
  analysis: 'repeat';
  baselineEntropyBits: Stat;
  rows: Array<{ blockLength: number; startLayer: number; relativeDepth: number; plan: number[]; entropyBits: Stat }>;
}

export interface CkaResult extends StageFileBase {
  analysis: 'cka';
  /** L x L matrices over block outputs 0..L-1. */
  lastToken?: { matrix: number[][]; batches: number; batchSize: number };
  allTokens?: { matrix: number[][]; batches: number };
}

export interface ProbeResult extends StageFileBase {
  analysis: 'wic' | 'probe';
  status: 'done' | 'skipped';
  reason?: string;
  /** L+1 points like the logit lens (0 = embeddings). */
  perPoint?: Array<{ point: number; relativeDepth: number; trainAccuracy: number; devAccuracy: number; l2: number }>;
  chance?: number;
  /** Examples used: WiC train / dev pairs, or the probe file's train / held-out spans. */
  examples?: { train: number; dev: number };
}

export interface StageBoundariesResult extends StageFileBase {
  analysis: 'stages';
  boundaries: Array<{ stage: 2 | 3 | 4; layer: number; relativeDepth: number; evidence: string[] }>;
  method: string;
  signalsUsed: string[];
}

export type StageResult = LocalAttentionResult | SubwordHeadsResult | LogitLensResult | NeuronsResult | MlpNormResult | RepeatResult | CkaResult | ProbeResult | StageBoundariesResult;

/** File name of each analysis in a run directory. */
export const ANALYSIS_FILES = {
  'local-attention': 'local-attention.json',
  'subword-heads': 'subword-heads.json',
  'logit-lens': 'logit-lens.json',
  neurons: 'neurons.json',
  'mlp-norm': 'mlp-norm.json',
  repeat: 'repeat.json',
  cka: 'cka.json',
  wic: 'wic.json',
  probe: 'probe.json',
  stages: 'stages.json',
} as const;
export type AnalysisName = keyof typeof ANALYSIS_FILES;
