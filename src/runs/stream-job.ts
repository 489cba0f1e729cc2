/**
 * One streaming job of the stage analyses: a data shard run through the model once per batch with the
 * hooks of every streaming analysis registered together, from its payload alone. A job sees the model and
 * the payload's options only (the corpus, tokenizer and other results stay with the run), as on a worker.
 */
import type { Model } from '../model/model.js';
import { packBatches, type Batch } from '../data/windows.js';
import { decodeState, encodeState } from '../results/state-codec.js';
import type { StageContext, StreamingAnalysis } from '../analyses/contract.js';
import { streamBatch } from '../analyses/stream-batch.js';
import type { Protocol } from '../protocol/protocol.js';
import { analysisNamed } from '../analyses/registry.js';
import type { ExecuteHooks } from './execute-job.js';
import { unpackWindows, type StreamJobPayload } from './jobs.js';

/** Seconds between checkpoints of a running job's states (in-process runs). */
export const DEFAULT_SAVE_EVERY_SECONDS = 5;

/** The context a job's analyses see: the model and the payload's options; nothing of the run. */
function jobContext(model: Model, options: StreamJobPayload['options'], log: (m: string) => void): StageContext {
  const absent = (what: string) => () => {
    throw new Error(`a streaming analysis read ctx.${what}, which a job does not carry (src/runs/stream-job.ts)`);
  };
  const ctx = { model, opts: { ...options }, results: {}, log } as Partial<StageContext>;
  for (const k of ['tokenizer', 'corpus', 'bos'] as const) Object.defineProperty(ctx, k, { get: absent(k), enumerable: false });
  return ctx as StageContext;
}

export function streamingAnalyses(names: readonly string[], protocol?: Protocol): StreamingAnalysis[] {
  return names.map((n) => {
    const a = analysisNamed(n, protocol);
    if (!a || a.kind !== 'streaming') throw new Error(`job payload: '${n}' is not a streaming analysis`);
    return a;
  });
}

export function executeStreamJob(model: Model, payload: StreamJobPayload, hooks: ExecuteHooks): Uint8Array {
  const analyses = streamingAnalyses(payload.analyses, payload.options.protocol);
  const data = unpackWindows(payload.windows);
  const ctx = jobContext(model, payload.options, (m) => hooks.log?.(m));
  const batches = packBatches(data.windows, payload.batchTokens);
  const partialName = `${hooks.name}-partial`;
  const partial = hooks.partial?.loadStateBytes(partialName);
  const saved = partial ? decodeState<{ batchesDone: number; states: Uint8Array[] }>(partial) : undefined;
  const states = analyses.map((a, i) => (saved ? a.decode(saved.states[i], ctx) : a.init(ctx)));
  const tokensOf = (b: Batch) => b.batch * (b.seq - 1);
  let next = saved?.batchesDone ?? 0;
  let tokensDone = batches.slice(0, next).reduce((n, b) => n + tokensOf(b), 0);
  if (next > 0) hooks.log?.(`resuming ${hooks.name} at batch ${next + 1} of ${batches.length}`);
  const saveEveryMs = (hooks.saveEverySeconds ?? DEFAULT_SAVE_EVERY_SECONDS) * 1000;
  let lastSave = Date.now();
  for (; next < batches.length; next++) {
    const batch = batches[next];
    streamBatch(ctx, analyses, states, { ids: batch.ids, batch: batch.batch, seq: batch.seq, docIds: batch.windowIndex.map((w) => data.docIndex[w]) });
    tokensDone += tokensOf(batch);
    if (next + 1 < batches.length && hooks.partial && Date.now() - lastSave >= saveEveryMs) {
      hooks.partial.saveStateBytes(partialName, encodeState({ batchesDone: next + 1, states: analyses.map((a, i) => a.encode(states[i])) }));
      lastSave = Date.now();
    }
    hooks.onProgress?.({ unitsDone: next + 1, tokensDone, batchDone: true });
  }
  analyses.forEach((a, i) => a.seal?.(states[i]));
  return encodeState({ states: analyses.map((a, i) => a.encode(states[i])) });
}
