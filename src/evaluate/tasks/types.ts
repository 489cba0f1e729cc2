/**
 * What a benchmark task is to layerlab: a way to read its file into items, and for each item the exact
 * strings lm-evaluation-harness scores (../shared/lm-eval-tasks.md §1-4): one context and one or more
 * continuations (target delimiter already included), plus the gold index for multiple choice.
 */
export type TaskKind = 'multiple_choice' | 'loglikelihood';

export interface EvalItem {
  /** 0-based record number in the task file (the document order lm-eval aggregates in). */
  id: number;
  /** `doc_to_text(doc)`: the zero-shot context, no few-shot delimiter. */
  context: string;
  /** Requests' continuations: `" " + choice` for multiple choice, `doc_to_target(doc)` for loglikelihood. */
  continuations: string[];
  /** Choice strings WITHOUT the target delimiter (acc_norm divides by their length); multiple choice only. */
  choices?: string[];
  /** Gold choice index; multiple choice only. */
  gold?: number;
}

export interface TaskDefinition {
  /** lm-eval task name, e.g. 'arc_easy'. */
  name: string;
  kind: TaskKind;
  /** Sub-folder of --task-dir and the file names looked for there (first found wins). */
  folder: string;
  files: string[];
  /** The record format in words, for error messages and docs. */
  format: string;
  /** Metrics reported (lm-eval's metric_list). */
  metrics: Array<'acc' | 'acc_norm' | 'perplexity'>;
  /** One parsed JSON record to an item; throws a message (without file/line) when a field is wrong. */
  toItem(record: Record<string, unknown>, id: number): EvalItem;
}
