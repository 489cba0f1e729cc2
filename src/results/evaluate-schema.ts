/**
 * What `layerlab evaluate` writes (evaluate.json, evaluate.csv, details/<task>.jsonl) and the report reads.
 * Metric names and definitions are lm-evaluation-harness's (`acc,none`, `acc_stderr,none`, ...).
 */
import type { Provenance } from '../util/provenance.js';
import type { InterventionKind } from './schema.js';

export const EVALUATE_FILE = 'evaluate.json';

/** One task under one plan; null where the metric does not apply to the task (or n <= 1 for a stderr). */
export interface EvaluateRow {
  task: string;
  /** 'baseline' for the unmodified model. */
  kind: InterventionKind | 'baseline';
  /** First block touched (null for the baseline). */
  layer: number | null;
  /** layer / (L - 1) (null for the baseline). */
  relative_depth: number | null;
  /** delete_3, swap_0, repeat5_2, baseline. */
  name: string;
  plan: number[];
  n: number;
  acc: number | null;
  acc_stderr: number | null;
  acc_norm: number | null;
  acc_norm_stderr: number | null;
  perplexity: number | null;
  perplexity_stderr: number | null;
}

export interface EvaluateTaskInfo {
  task: string;
  output_type: 'multiple_choice' | 'loglikelihood';
  file: string;
  sha256: string;
  /** Records in the file and items scored (the first --limit). */
  records: number;
  items: number;
  /** Requests (one per item and continuation) and items whose input was left-truncated. */
  requests: number;
  truncated_requests: number;
}

export interface EvaluateResult {
  provenance: Provenance;
  layers: number;
  tasks: EvaluateTaskInfo[];
  choices: Record<string, unknown>;
  rows: EvaluateRow[];
}

export const EVALUATE_CSV_COLUMNS = [
  'task', 'kind', 'layer', 'relative_depth', 'name', 'plan', 'n',
  'acc', 'acc_stderr', 'acc_norm', 'acc_norm_stderr', 'perplexity', 'perplexity_stderr',
] as const;
