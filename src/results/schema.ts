/**
 * The on-disk result formats: what `sweep`, `stages` and `paper` write and `report` reads. Each result
 * file has exactly one declaration here, a zod schema; its TypeScript type is inferred from it
 * (`z.infer`), and the same schema validates the file at run time when it is written and when it is read
 * (src/results/run-files.ts). Every file carries the same provenance block. Every key is snake_case
 * (src/results/naming.ts); in-memory names elsewhere stay camelCase.
 *
 * Numbers: a quantity that can be undefined (a mean over no tokens, a spread of one value, the relative
 * depth of an identity plan) is `number | null`; NaN is written as null. Every other number must be
 * finite: zod's `z.number()` rejects NaN and ±Infinity, so a silent NaN can never be written.
 */
import { z } from 'zod';
import { StatSchema } from '../stats/stat.js';
import type { Provenance } from '../util/provenance.js';

export { StatSchema };
export type { Stat } from '../stats/stat.js';

const num = z.number();
const int = z.number().int();
const maybe = z.number().nullable();
const choicesSchema = z.record(z.string(), z.unknown());

/** util/provenance.ts owns the fields; a result file must at least name the model and the layerlab version. */
export const ProvenanceSchema = z.looseObject({ model: z.string(), layerlab_version: z.string() }) as unknown as z.ZodType<Provenance>;

/** The data a run read and how it turned text into model inputs. */
export const DataProvenanceSchema = z.object({
  file: z.string(),
  sha256: z.string(),
  format: z.enum(['text', 'jsonl', 'parquet']),
  documents: int,
  windows: int,
  /** Non-BOS tokens. */
  tokens: int,
  seq_len: int,
  max_tokens: int.optional(),
  max_docs: int.optional(),
});
export type DataProvenance = z.infer<typeof DataProvenanceSchema>;

export const ManifestSchema = z.looseObject({
  kind: z.enum(['sweep', 'stages', 'paper', 'evaluate']),
  provenance: ProvenanceSchema,
  data: DataProvenanceSchema.optional(),
  /** Every choice that changes numbers, in words and values (positions, pooling, KL direction, ...). */
  choices: choicesSchema,
  /** Analyses or intervention kinds requested, and which are complete. */
  requested: z.array(z.string()),
  complete: z.array(z.string()),
  /** Set on a finished run. */
  finished_at: z.string().optional(),
  command: z.array(z.string()),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** `.layerlab-run.json`, written by ResumableRun; `finished: false` means the run was interrupted. */
export const RunFileSchema = z.object({
  key: z.string(),
  finished: z.boolean(),
  /** Files this run wrote in the folder (only these are removed when a different run takes it over). */
  files: z.array(z.string()),
});
export type RunFile = z.infer<typeof RunFileSchema>;

// ---------- sweep (DIR/metrics.json): the public flat-row format of docs/sweeps.md ----------

export const InterventionKindSchema = z.enum(['delete', 'swap', 'repeat', 'plan']);
export type InterventionKind = z.infer<typeof InterventionKindSchema>;

export const SweepMetricsSchema = z.object({
  /** Positions scored for KL/agreement/entropy (every non-BOS position); the loss uses as many (t = 0..T-2). */
  tokens: int,
  /** Documents the tokens came from (the units of the standard errors). */
  docs: int,
  kl_mean: maybe,
  kl_std: maybe,
  kl_sem: maybe,
  agreement: maybe,
  agreement_std: maybe,
  agreement_sem: maybe,
  accuracy: maybe,
  accuracy_std: maybe,
  accuracy_sem: maybe,
  accuracy_baseline: maybe,
  loss: maybe,
  loss_std: maybe,
  loss_sem: maybe,
  loss_baseline: maybe,
  entropy_bits: maybe,
  entropy_bits_std: maybe,
  entropy_bits_sem: maybe,
  entropy_bits_baseline: maybe,
});

export const InterventionRowSchema = SweepMetricsSchema.extend({
  kind: InterventionKindSchema,
  /** First block touched by the intervention (-1 for a custom plan equal to the original order). */
  layer: int,
  /** Block list executed. */
  plan: z.array(int),
  /** layer / (L - 1). */
  relative_depth: maybe,
  /** Short label (delete_3, swap_0, repeat5_2, plan_0-1-3-2). */
  name: z.string(),
  /** Plan-wide differences: loss - loss_baseline, entropy_bits - entropy_bits_baseline. */
  loss_delta: maybe,
  entropy_bits_delta: maybe,
});

export const SweepBaselineSchema = z.object({
  plan: z.array(int),
  tokens: int,
  docs: int,
  loss: maybe,
  loss_std: maybe,
  loss_sem: maybe,
  accuracy: maybe,
  accuracy_std: maybe,
  accuracy_sem: maybe,
  entropy_bits: maybe,
  entropy_bits_std: maybe,
  entropy_bits_sem: maybe,
});

export const SweepSummarySchema = z.object({
  interventions: int,
  mean_agreement: maybe,
  /** Same mean without the interventions that touch the first block or the last block. */
  mean_agreement_excluding_ends: maybe,
  min_agreement: maybe,
  max_agreement: maybe,
  mean_kl: maybe,
  definition: z.string(),
});

export const SweepResultSchema = z.object({
  provenance: ProvenanceSchema,
  /** Number of blocks L of the model. */
  layers: int.positive(),
  data: DataProvenanceSchema.optional(),
  /** Same as manifest.json's choices. */
  choices: choicesSchema.optional(),
  baseline: SweepBaselineSchema,
  interventions: z.array(InterventionRowSchema),
  /** Mean agreement over all interventions of a kind ("retains 72-95%" in the paper). */
  summary: z.record(z.string(), SweepSummarySchema),
});

/**
 * In memory the sweep's numbers are plain numbers (NaN where undefined); on disk NaN is null. The types
 * keep the in-memory view so that code computing rows needs no null checks.
 */
type NumbersNotNull<T> = { [K in keyof T]: T[K] extends number | null ? Exclude<T[K], null> : T[K] };
export type SweepMetrics = NumbersNotNull<z.infer<typeof SweepMetricsSchema>>;
export type InterventionRow = NumbersNotNull<z.infer<typeof InterventionRowSchema>>;
export type SweepBaseline = NumbersNotNull<z.infer<typeof SweepBaselineSchema>>;
export type SweepSummary = Omit<NumbersNotNull<z.infer<typeof SweepSummarySchema>>, 'mean_agreement_excluding_ends'> & { mean_agreement_excluding_ends: number | null };
export type SweepResult = Omit<z.infer<typeof SweepResultSchema>, 'baseline' | 'interventions' | 'summary'> & {
  baseline: SweepBaseline;
  interventions: InterventionRow[];
  summary: Record<string, SweepSummary>;
};

// ---------- stages (DIR/<analysis>.json) ----------

const stageBase = <A extends string>(analysis: A) =>
  z.object({
    analysis: z.literal(analysis),
    provenance: ProvenanceSchema,
    choices: choicesSchema,
    /** Number of blocks L. */
    layers: int.positive(),
  });

export interface StageFileBase {
  analysis: string;
  provenance: Provenance;
  choices: Record<string, unknown>;
  /** Number of blocks L. */
  layers: number;
}

/** `per_layer` must have L entries, `per_point` L + 1: checked against the file's own `layers`. */
const lengthIs = (key: string, extra: number) => (f: Record<string, unknown>, ctx: z.core.$RefinementCtx<unknown>) => {
  const rows = f[key];
  const L = f.layers as number;
  if (Array.isArray(rows) && rows.length !== L + extra) ctx.addIssue({ code: 'custom', path: [key], message: `has ${rows.length} entries, expected ${L + extra}` });
};

export const LocalAttentionResultSchema = stageBase('local-attention')
  .extend({
    windows: z.array(num),
    include_bos: z.boolean(),
    /** The metric the figure shows: `total` (`windows`, layerlab) or `mean_entry` (the authors'); absent in older files = total. */
    shown: z.enum(['total', 'mean_entry']).optional(),
    /**
     * One entry per layer 0..L-1: `windows` the totals per k, `mean_entry` the authors' per-offset mean per k
     * (per document; absent in older files), `prev5` the per-offset mean over 5 tokens.
     */
    per_layer: z.array(z.object({ layer: int, relative_depth: num, windows: z.record(z.string(), StatSchema), mean_entry: z.record(z.string(), StatSchema).optional(), prev5: StatSchema })),
  })
  .superRefine(lengthIs('per_layer', 0));
export type LocalAttentionResult = z.infer<typeof LocalAttentionResultSchema>;

const attentionRows = z.array(z.object({ word: z.string(), tokens: z.array(z.string()), attention: z.array(maybe) }));
export const SubwordHeadsResultSchema = stageBase('subword-heads').extend({
  examples: z.object({ multi: int, single: int, multi_tokens: int }),
  /** Every head, best first: mean attention from the last sub-token to the first, multi vs single. */
  heads: z.array(z.object({ layer: int, head: int, score: num, multi: StatSchema, single: StatSchema })),
  /** Attention rows of the best head for the heatmap: last query to the last `width` keys. */
  /** `rule`: how the head was chosen (the caption states it; absent in older files = the best-scoring head). */
  heatmap: z.object({ layer: int, head: int, width: int, rule: z.string().optional(), multi: attentionRows, single: attentionRows }),
});
export type SubwordHeadsResult = z.infer<typeof SubwordHeadsResultSchema>;

export const LogitLensResultSchema = stageBase('logit-lens')
  .extend({
    /** L+1 points: 0 = embeddings, i = after block i-1. */
    /** The unit of `kl` (absent in older files, which hold `kl_bits` only). */
    kl_unit: z.enum(['bits', 'nats']).optional(),
    /**
     * `kl`: KL(final || layer) in `kl_unit`; `kl_bits` the same in bits (kept for older readers). Entropy is
     * in bits under both protocols.
     */
    per_point: z.array(z.object({ point: int, relative_depth: num, entropy_bits: StatSchema, kl: StatSchema.optional(), kl_bits: StatSchema, agreement: StatSchema, rank_of_final_top1: StatSchema })),
  })
  .superRefine(lengthIs('per_point', 1));
export type LogitLensResult = z.infer<typeof LogitLensResultSchema>;

export const NeuronsResultSchema = stageBase('neurons')
  .extend({
    mode: z.enum(['tl', 'raw']),
    threshold: num,
    per_layer: z.array(z.object({ layer: int, relative_depth: num, d_mlp: int, prediction: int, suppression: int, prediction_density: num, suppression_density: num })),
    /** Strongest neurons by kurtosis, for inspection. */
    top: z.array(z.object({ layer: int, neuron: int, kurtosis: num, skew: num, kind: z.enum(['prediction', 'suppression']) })),
  })
  .superRefine(lengthIs('per_layer', 0));
export type NeuronsResult = z.infer<typeof NeuronsResultSchema>;

export const MlpNormResultSchema = stageBase('mlp-norm')
  .extend({ per_layer: z.array(z.object({ layer: int, relative_depth: num, norm: StatSchema })) })
  .superRefine(lengthIs('per_layer', 0));
export type MlpNormResult = z.infer<typeof MlpNormResultSchema>;

export const RepeatResultSchema = stageBase('repeat').extend({
  baseline_entropy_bits: StatSchema,
  rows: z.array(z.object({ block_length: int, start_layer: int, relative_depth: num, plan: z.array(int), entropy_bits: StatSchema })),
});
export type RepeatResult = z.infer<typeof RepeatResultSchema>;

const squareMatrix = z.array(z.array(maybe));
export const CkaResultSchema = stageBase('cka')
  .extend({
    /** L x L matrices over block outputs 0..L-1. */
    last_token: z.object({ matrix: squareMatrix, batches: int, batch_size: int }).optional(),
    all_tokens: z.object({ matrix: squareMatrix, batches: int }).optional(),
  })
  .superRefine((f, ctx) => {
    if (!f.last_token && !f.all_tokens) ctx.addIssue({ code: 'custom', path: ['last_token'], message: 'neither last_token nor all_tokens present' });
    for (const k of ['last_token', 'all_tokens'] as const) {
      const m = f[k]?.matrix;
      if (m && (m.length !== f.layers || m.some((row) => row.length !== f.layers)))
        ctx.addIssue({ code: 'custom', path: [k, 'matrix'], message: `must be ${f.layers} x ${f.layers} numbers` });
    }
  });
export type CkaResult = z.infer<typeof CkaResultSchema>;

const probeFields = {
  status: z.enum(['done', 'skipped']),
  reason: z.string().optional(),
  /** L+1 points like the logit lens (0 = embeddings). */
  per_point: z.array(z.object({ point: int, relative_depth: num, train_accuracy: num, dev_accuracy: num, l2: num })).optional(),
  chance: num.optional(),
  /** Examples used: WiC train / dev pairs, or the probe file's train / held-out spans. */
  examples: z.object({ train: int, dev: int }).optional(),
};
const probeRefine = (f: { status: string; per_point?: unknown[]; layers: number }, ctx: z.core.$RefinementCtx<unknown>) => {
  if (f.status !== 'done') return;
  if (!f.per_point) ctx.addIssue({ code: 'custom', path: ['per_point'], message: 'required when status is done' });
  else lengthIs('per_point', 1)(f as unknown as Record<string, unknown>, ctx);
};
export const WicResultSchema = stageBase('wic').extend(probeFields).superRefine(probeRefine);
export const SpanProbeResultSchema = stageBase('probe').extend(probeFields).superRefine(probeRefine);
export type ProbeResult = z.infer<typeof WicResultSchema> | z.infer<typeof SpanProbeResultSchema>;

const probeScore = { train_accuracy: num, test_accuracy: num, l2: num };
const neuronKind = z.enum(['prediction', 'suppression', 'none']);
/** The "-ing" neuron probes (paper §5.3, Figs. 9/12a, 21): selection from the weights, probes on the corpus. */
export const IngProbeResultSchema = stageBase('ing-probe')
  .extend({
    /** skipped: the vocabulary has no "-ing" token (or only such tokens). */
    status: z.enum(['done', 'skipped']),
    reason: z.string().optional(),
    vocabulary: z.object({ tokens: int, ing_tokens: int, examples: z.array(z.string()) }),
    selection: z
      .object({
        total_neurons: int,
        candidates: int,
        ranked_over: z.enum(['candidates', 'all']),
        /** Best first; the first 32 are the probe neurons. */
        neurons: z.array(z.object({ rank: int, layer: int, neuron: int, score: num, diff: num, mean_ing: num, mean_other: num, kurtosis: maybe, skew: maybe, variance: num, kind: neuronKind })),
      })
      .optional(),
    /** Fig. 21: W_U . w_out over "-ing" and other tokens, equal bins over [lo, hi]. */
    histograms: z.array(z.object({ layer: int, neuron: int, lo: num, hi: num, ing: z.array(int), other: z.array(int) })).optional(),
    probes: z
      .object({
        status: z.enum(['done', 'skipped']),
        reason: z.string().optional(),
        dataset: z.object({
          ing_occurrences: int,
          other_occurrences: int,
          ing_forms: int,
          other_forms: int,
          per_class: int,
          train: int.optional(),
          test: int.optional(),
          context_tokens: int.optional(),
          /** A few examples per class to read: the word and its decoded context. */
          samples: z.array(z.object({ label: int, word: z.string(), context: z.string() })).optional(),
        }),
        single: z.array(z.object({ rank: int, layer: int, neuron: int, kind: neuronKind, ...probeScore })).optional(),
        ensemble: z.array(z.object({ k: int, added_rank: int, ...probeScore })).optional(),
        baseline: z.object({ model_top1_accuracy: num, model_top1_accuracy_all: num, chance: num }).optional(),
      })
      .optional(),
  })
  .superRefine((f, ctx) => {
    if (f.status === 'done' && (!f.selection || !f.histograms || !f.probes)) ctx.addIssue({ code: 'custom', path: ['selection'], message: 'selection, histograms and probes are required when status is done' });
    const p = f.probes;
    if (p?.status === 'done' && (!p.single || !p.ensemble || !p.baseline)) ctx.addIssue({ code: 'custom', path: ['probes'], message: 'single, ensemble and baseline are required when the probes ran' });
  });
export type IngProbeResult = z.infer<typeof IngProbeResultSchema>;

export const StageBoundariesResultSchema = stageBase('stages').extend({
  boundaries: z.array(z.object({ stage: z.union([z.literal(2), z.literal(3), z.literal(4)]), layer: int, relative_depth: num, evidence: z.array(z.string()) })),
  method: z.string(),
  signals_used: z.array(z.string()),
});
export type StageBoundariesResult = z.infer<typeof StageBoundariesResultSchema>;

export type StageResult = LocalAttentionResult | SubwordHeadsResult | LogitLensResult | NeuronsResult | MlpNormResult | RepeatResult | CkaResult | ProbeResult | StageBoundariesResult | IngProbeResult;

