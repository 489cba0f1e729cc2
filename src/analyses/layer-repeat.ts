/**
 * Layer repeat (paper spec §3.3, §5.4, stage 4): every layer of a block of k consecutive layers is run
 * twice in a row (interleaved duplication, one repeat, weights shared), e.g. k = 3 from s = 2 gives
 * [0, 1, 2, 2, 3, 3, 4, 4, 5, …]. For each start s = 0..L−k and k ∈ {3, 5} (blocks longer than the model
 * are skipped), the entropy (bits) of the final output distribution at every position after BOS is
 * compared with the unmodified model's.
 *
 * Under `--protocol paper` the inputs are those of jinhl9's copy_layers_range.py: the first 10 documents
 * as the model's HF tokenizer gives them (`tokenizer(text, truncation=True, max_length=512)`: its own
 * special tokens only, so no BOS for GPT-2 or Pythia, Llama's BOS for Llama; 512 tokens in all), and the
 * entropy at every position, the first included.
 */
import { forward } from '../model/forward.js';
import type { ModelLike } from '../model/executor.js';
import type { RepeatResult } from '../results/schema.js';
import { relativeDepth } from './common.js';
import { DocStats, type DocStatsState } from '../stats/doc-stats.js';
import type { StageContext, StreamingAnalysis } from './contract.js';
import type { TextTokenizer } from '../load/tokenizer.js';
import { firstDocs, firstTokens, overOwnCorpus, type OwnCorpus } from './own-corpus.js';
import { clampEntropies, PAPER_ENTROPY_FLOOR } from '../sweep/clamped-entropy.js';
import { resultFileOf } from '../results/run-files.js';
import { decodeState, encodeState } from '../results/state-codec.js';

/** Plan with each of the layers s..s+k−1 run twice in a row. */
export function repeatPlan(nLayers: number, start: number, blockLength: number): number[] {
  if (start < 0 || blockLength < 1 || start + blockLength > nLayers) throw new Error(`repeat block ${start}..${start + blockLength - 1} does not fit ${nLayers} layers`);
  const plan: number[] = [];
  for (let l = 0; l < nLayers; l++) {
    plan.push(l);
    if (l >= start && l < start + blockLength) plan.push(l);
  }
  return plan;
}

/**
 * Entropy in bits of every row of logits at positions t >= first, grouped per batch row; with `floor`,
 * every probability is clamped at it first (the authors' calculate_base2_entropy).
 */
function entropiesFrom(first: number, floor: number | undefined, model: ModelLike, logits: Float32Array, batch: number, seq: number, docIds: number[], into: DocStats): void {
  const V = model.config.vocabSize;
  if (seq <= first) return;
  const rows = batch * seq;
  const ent = new Float64Array(rows);
  const lse = floor === undefined ? undefined : new Float64Array(rows);
  model.backend.logitStats(logits, rows, V, lse, undefined, ent);
  if (lse) clampEntropies(logits, rows, V, lse, ent, floor!);
  for (let b = 0; b < batch; b++) into.addMany(docIds[b], ent.subarray(b * seq + first, (b + 1) * seq));
}

export interface RepeatState {
  baseline: DocStatsState;
  rows: Array<{ blockLength: number; startLayer: number; stats: DocStatsState }>;
}

export class RepeatAccumulator {
  readonly baseline = new DocStats();
  readonly rows: Array<{ blockLength: number; startLayer: number; plan: number[]; stats: DocStats }>;

  /**
   * `firstPosition`: 1 = positions after BOS (layerlab), 0 = every position (the authors' script);
   * `entropyFloor`: clamp probabilities at it (the script), default exact.
   */
  constructor(readonly layers: number, readonly blockLengths: number[] = [3, 5], readonly firstPosition: 0 | 1 = 1, readonly entropyFloor?: number) {
    this.rows = [];
    for (const k of blockLengths) for (let s = 0; s + k <= layers; s++) this.rows.push({ blockLength: k, startLayer: s, plan: repeatPlan(layers, s, k), stats: new DocStats() });
  }

  /** One batch: baseline logits from the shared forward; one extra forward per repeat plan. */
  addBatch(model: ModelLike, input: { ids: Int32Array; batch: number; seq: number }, baselineLogits: Float32Array, docIds: number[]): void {
    entropiesFrom(this.firstPosition, this.entropyFloor, model, baselineLogits, input.batch, input.seq, docIds, this.baseline);
    for (const r of this.rows) {
      const res = forward(model, input, { plan: r.plan });
      entropiesFrom(this.firstPosition, this.entropyFloor, model, res.logits!.data, input.batch, input.seq, docIds, r.stats);
    }
  }

  /** Folds another shard's accumulator in. */
  merge(o: RepeatAccumulator): this {
    this.baseline.merge(o.baseline);
    this.rows.forEach((r, i) => r.stats.merge(o.rows[i].stats));
    return this;
  }

  toJSON(): RepeatState {
    return { baseline: this.baseline.toJSON(), rows: this.rows.map((r) => ({ blockLength: r.blockLength, startLayer: r.startLayer, stats: r.stats.toJSON() })) };
  }

  static fromJSON(layers: number, blockLengths: number[], s: RepeatState, firstPosition: 0 | 1 = 1, entropyFloor?: number): RepeatAccumulator {
    const acc = new RepeatAccumulator(layers, blockLengths, firstPosition, entropyFloor);
    acc.baseline.merge(DocStats.fromJSON(s.baseline));
    s.rows.forEach((r, i) => acc.rows[i].stats.merge(DocStats.fromJSON(r.stats)));
    return acc;
  }

  result(): Pick<RepeatResult, 'baseline_entropy_bits' | 'rows'> {
    return {
      baseline_entropy_bits: this.baseline.stat(),
      rows: this.rows.map((r) => ({ block_length: r.blockLength, start_layer: r.startLayer, relative_depth: relativeDepth(r.startLayer, this.layers), plan: r.plan, entropy_bits: r.stats.stat() })),
    };
  }

  choices(): Record<string, unknown> {
    return {
      block_lengths: this.blockLengths,
      repeats: 1,
      plan: 'each layer of the block run twice in a row (interleaved), weights shared',
      starts: 's = 0..L-k (one row per start and block length; block lengths longer than L are skipped)',
      metric: `entropy (bits) of the final output distribution, ${this.firstPosition === 0 ? "every position, the first included (copy_layers_range.py's entropy of every logit row)" : 'every position after BOS'}; token-pooled, sem across documents`,
      relative_depth: 'start_layer / (L - 1)',
      entropy: this.entropyFloor === undefined ? 'exact' : `every probability clamped at ${this.entropyFloor} before summing (copy_layers_range.py's calculate_base2_entropy)`,
      ...(this.firstPosition === 0 ? { aggregation: 'token-pooled as layerlab: the script saves each document\'s entropies, its plotting is unreleased (marked)' } : {}),
    };
  }
}

const repeatDocsOf = (opts: { repeatDocs?: number }) => opts.repeatDocs ?? 10;
const firstPositionOf = (ctx: StageContext): 0 | 1 => (ctx.opts.protocol === 'paper' ? 0 : 1);
const entropyFloorOf = (ctx: StageContext): number | undefined => (ctx.opts.protocol === 'paper' ? PAPER_ENTROPY_FLOOR : undefined);

/** Tokens the model's tokenizer adds around a text of its own (HF add_special_tokens=True), e.g. Llama's BOS. */
export function specialTokensAround(tok: TextTokenizer): { head: number[]; tail: number[] } {
  if (!tok.encodeWithSpecialTokens) return { head: [], tail: [] };
  const plain = tok.encode('a'), full = tok.encodeWithSpecialTokens('a');
  for (let h = 0; h + plain.length <= full.length; h++)
    if (plain.every((id, i) => full[h + i] === id)) return { head: full.slice(0, h), tail: full.slice(h + plain.length) };
  return { head: [], tail: [] };
}

/** The script's truncation length (`max_length=512`, special tokens included). */
export const PAPER_REPEAT_TOKENS = 512;

/** copy_layers_range.py's inputs: each of the first 10 documents as the HF tokenizer with truncation gives it. */
export function paperRepeatCorpus(ctx: StageContext): OwnCorpus {
  const { head, tail } = specialTokensAround(ctx.tokenizer);
  const n = Math.min(PAPER_REPEAT_TOKENS, ctx.model.config.nCtx) - head.length - tail.length;
  const windows: Int32Array[] = [], docIndex: number[] = [];
  for (const d of firstDocs(ctx, repeatDocsOf(ctx.opts))) {
    const ids = firstTokens(ctx, ctx.corpus.docs[d], n);
    if (ids.length === 0) continue;
    windows.push(Int32Array.from([...head, ...ids, ...tail]));
    docIndex.push(d);
  }
  return {
    windows, docIndex,
    choices: {
      source: 'copy_layers_range.py',
      documents: `the first ${repeatDocsOf(ctx.opts)} documents (--repeat-docs; fewer with --max-docs)`,
      tokens: `tokenizer(text, truncation=True, max_length=${PAPER_REPEAT_TOKENS}): the tokenizer's own special tokens only (${head.length ? `${head.length} before the text` : 'none before the text: no BOS'}${tail.length ? `, ${tail.length} after` : ''}), ${PAPER_REPEAT_TOKENS} tokens in all`,
    },
  };
}

/**
 * Layer repeat as a streaming analysis: the shared forward's logits are the baseline; each repeat plan
 * runs its own forward on the rows of the first `repeatDocs` documents.
 */
export const repeatAnalysis: StreamingAnalysis<RepeatAccumulator> = {
  kind: 'streaming', name: 'repeat', ...resultFileOf('repeat'), figure: 'repeat', phase: 1,
  needs: { logits: (b, ctx) => b.docIds.some((d) => d < repeatDocsOf(ctx.opts)) },
  init: (ctx) => new RepeatAccumulator(ctx.model.config.nLayers, ctx.opts.repeatBlockLengths ?? [3, 5], firstPositionOf(ctx), entropyFloorOf(ctx)),
  add: (acc, b, out, ctx) => {
    const rows = b.docIds.map((d, r) => (d < repeatDocsOf(ctx.opts) ? r : -1)).filter((r) => r >= 0);
    if (rows.length === 0) return;
    const T = b.seq, V = ctx.model.config.vocabSize;
    const ids = new Int32Array(rows.length * T);
    const logits = new Float32Array(rows.length * T * V);
    rows.forEach((r, i) => {
      ids.set(b.ids.subarray(r * T, (r + 1) * T), i * T);
      logits.set(out.logits!.subarray(r * T * V, (r + 1) * T * V), i * T * V);
    });
    acc.addBatch(ctx.model, { ids, batch: rows.length, seq: T }, logits, rows.map((r) => b.docIds[r]));
  },
  merge: (a, b) => a.merge(b),
  encode: (acc) => encodeState(acc.toJSON()),
  decode: (bytes, ctx) => RepeatAccumulator.fromJSON(ctx.model.config.nLayers, ctx.opts.repeatBlockLengths ?? [3, 5], decodeState(bytes), firstPositionOf(ctx), entropyFloorOf(ctx)),
  result: (acc, ctx) => ({ choices: { ...acc.choices(), documents: `windows of the first ${repeatDocsOf(ctx.opts)} documents` }, body: { ...acc.result() } }),
  forProtocol: (p) => (p === 'paper' ? repeatPaper : undefined),
};

/** Under --protocol paper: the same accumulator over the script's inputs, one job. */
const repeatPaper = overOwnCorpus(repeatAnalysis, paperRepeatCorpus);
