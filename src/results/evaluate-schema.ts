/**
 * What `layerlab evaluate` writes (evaluate.json, evaluate.csv, details/<task>.jsonl) and the report reads:
 * one zod declaration, registered with the other result files in run-files.ts (type and validator from it).
 * Metric names and definitions are lm-evaluation-harness's (`acc,none`, `acc_stderr,none`, ...).
 */
import { z } from 'zod';
import { InterventionKindSchema, ProvenanceSchema } from './schema.js';

export const EVALUATE_FILE = 'evaluate.json';

const int = z.number().int();
const maybe = z.number().nullable();

/** One task under one plan; null where the metric does not apply to the task (or n <= 1 for a stderr). */
export const EvaluateRowSchema = z.object({
  task: z.string(),
  /** 'baseline' for the unmodified model. */
  kind: z.union([InterventionKindSchema, z.literal('baseline')]),
  /** First block touched (null for the baseline). */
  layer: int.nullable(),
  /** layer / (L - 1) (null for the baseline). */
  relative_depth: maybe,
  /** delete_3, swap_0, repeat5_2, baseline. */
  name: z.string(),
  plan: z.array(int),
  n: int,
  acc: maybe,
  acc_stderr: maybe,
  acc_norm: maybe,
  acc_norm_stderr: maybe,
  perplexity: maybe,
  perplexity_stderr: maybe,
});
export type EvaluateRow = z.infer<typeof EvaluateRowSchema>;

export const EvaluateTaskInfoSchema = z.object({
  task: z.string(),
  output_type: z.enum(['multiple_choice', 'loglikelihood']),
  file: z.string(),
  sha256: z.string(),
  /** Records in the file and items scored (the first --limit). */
  records: int,
  items: int,
  /** Requests (one per item and continuation) and items whose input was left-truncated. */
  requests: int,
  truncated_requests: int,
});
export type EvaluateTaskInfo = z.infer<typeof EvaluateTaskInfoSchema>;

export const EvaluateResultSchema = z.object({
  provenance: ProvenanceSchema,
  layers: int.positive(),
  tasks: z.array(EvaluateTaskInfoSchema),
  choices: z.record(z.string(), z.unknown()),
  rows: z.array(EvaluateRowSchema),
});
export type EvaluateResult = z.infer<typeof EvaluateResultSchema>;

export const EVALUATE_CSV_COLUMNS = [
  'task', 'kind', 'layer', 'relative_depth', 'name', 'plan', 'n',
  'acc', 'acc_stderr', 'acc_norm', 'acc_norm_stderr', 'perplexity', 'perplexity_stderr',
] as const;
