/**
 * Under `--protocol paper` some analyses read the corpus the authors' script for that analysis read (the
 * logit lens: the first 500 characters of the first 10 documents; local attention: the first 100
 * documents cut at the script's context; layer repeat: the first 10 documents as the HF tokenizer gives
 * them), not the run's windows. Such an analysis is one whole job (phase 2): the streaming analysis's own
 * accumulator, fed by forwards over those inputs, so both protocols share every line of the metric.
 */
import { packBatches } from '../data/windows.js';
import { encodeBounded } from '../data/chunked-encode.js';
import type { AnalysisOutput, StageContext, StreamingAnalysis, WholeAnalysis } from './contract.js';
import { streamBatch } from './stream-batch.js';
import { LayerlabError } from '../util/errors.js';

/** Model inputs of an analysis: token rows, each row's document, and how they were made (recorded). */
export interface OwnCorpus {
  windows: Int32Array[];
  docIndex: number[];
  choices: Record<string, unknown>;
}

/** Indices of the first `n` documents of the run (also bounded by --max-docs), as `dataset.take(n)`. */
export function firstDocs(ctx: StageContext, n: number): number[] {
  const count = Math.min(n, ctx.corpus.docs.length, ctx.opts.maxDocs ?? Infinity);
  return Array.from({ length: Math.max(0, count) }, (_, i) => i);
}

/** The first `n` token ids of `text` (all when shorter), tokenized only as far as needed. */
export function firstTokens(ctx: StageContext, text: string, n: number): number[] {
  return encodeBounded(ctx.tokenizer, text, n).slice(0, n);
}

/** Runs streaming analysis `a` over the rows of `corpus` (one job) and returns its result. */
export function runOverCorpus<S>(a: StreamingAnalysis<S>, ctx: StageContext, corpus: Pick<OwnCorpus, 'windows' | 'docIndex'>): AnalysisOutput {
  const state = a.init(ctx);
  for (const b of packBatches(corpus.windows, ctx.opts.batchTokens ?? 4096))
    streamBatch(ctx, [a], [state], { ids: b.ids, batch: b.batch, seq: b.seq, docIds: b.windowIndex.map((w) => corpus.docIndex[w]) });
  a.seal?.(state);
  return a.result(state, ctx);
}

/** `a` as a whole analysis over the inputs `inputs(ctx)` gives; the inputs' description joins its choices. */
export function overOwnCorpus<S>(a: StreamingAnalysis<S>, inputs: (ctx: StageContext) => OwnCorpus): WholeAnalysis {
  return {
    kind: 'whole', name: a.name, file: a.file, schema: a.schema, figure: a.figure, phase: 2,
    run: (ctx) => {
      const corpus = inputs(ctx);
      if (corpus.windows.length === 0) throw new LayerlabError(`${a.name}: the corpus gives no tokens for the paper protocol's ${a.name} inputs`);
      ctx.log(`${a.name}: ${corpus.windows.length} inputs of the authors' ${a.name} corpus`);
      const out = runOverCorpus(a, ctx, corpus);
      return { choices: { ...out.choices, corpus: corpus.choices }, body: out.body };
    },
  };
}
