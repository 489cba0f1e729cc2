/**
 * Runs the stage analyses (paper spec §5) on one model and corpus into a resumable run folder:
 * DIR/manifest.json (kind 'stages') plus one DIR/<analysis>.json per analysis. The runner knows no
 * analysis by name: it loops over the registry (src/analyses/registry.ts), in phases.
 *
 * - Phase 0 (weights only) and 2 (own inputs): each analysis is one job, `run(ctx)`.
 * - Phase 1 (streaming): the corpus windows (read and tokenized once) are split into data shards
 *   (`shardDocs` documents each; default DEFAULT_SHARD_DOCS). One job per shard runs **one forward per batch**
 *   with the hooks of every streaming analysis registered together and folds the batch into each
 *   analysis's state; a finished job's states are saved (compact binary) and never recomputed. Within a
 *   job the states are checkpointed after a batch at most every `saveEverySeconds` (5). The job states
 *   are merged in shard order, whatever order the jobs ran in.
 * - Phase 3 (derived): stage boundaries, from the other results (and --sweep DIR).
 * A finished analysis file is never recomputed on resume.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { modelFingerprint } from '../load/fingerprint.js';
import { resolveSeqLen } from '../model/context.js';
import type { Model } from '../model/model.js';
import type { TextTokenizer } from '../load/tokenizer.js';
import { makeWindows, packBatches, type TokenEncoder } from '../data/windows.js';
import type { DocumentSet } from '../data/documents.js';
import { ResumableRun } from '../results/resumable-run.js';
import { ANALYSIS_FILES, MANIFEST_FILE, readResult } from '../results/run-files.js';
import type { DataProvenance, Manifest, StageResult } from '../results/schema.js';
import { decodeState } from '../results/state-codec.js';
import { provenance } from '../util/provenance.js';
import { LayerlabError } from '../util/errors.js';
import type { StageContext, StageResults, StagesOptions, StreamingAnalysis } from '../analyses/contract.js';
import { ANALYSES, analysesFor, DEFAULT_ANALYSES, STAGE_ANALYSES, type StageAnalysis } from '../analyses/registry.js';
import { DEFAULT_SHARD_DOCS, shardWindows } from './shards.js';
import { packWindows } from './jobs.js';
import { inProcessRunner, type RunJob } from './job-runner.js';
import { snakeCaseKeys } from '../results/naming.js';
import { DEFAULT_PROTOCOL } from '../protocol/protocol.js';
import { protocolManifest } from '../protocol/choices.js';
import { corpusChoices, docTokenLimit, stagesSeqLenCap } from '../protocol/corpus.js';

export { DEFAULT_ANALYSES, STAGE_ANALYSES, type StageAnalysis, type StageResults, type StagesOptions };

export const STAGE_FILES: Record<StageAnalysis, string> = ANALYSIS_FILES;

export interface StagesInput {
  model: Model;
  tokenizer: TextTokenizer;
  bos: number;
  corpus: DocumentSet;
  dataFile: string;
  outDir: string;
  command?: string[];
  /** Tokenizer for the windows (default `tokenizer`), e.g. one that caches documents across phases. */
  encoder?: TokenEncoder;
}

function log(opts: StagesOptions, msg: string): void {
  if (opts.progress !== false) process.stderr.write(`${msg}\n`);
}

export async function runStages(input: StagesInput, opts: StagesOptions = {}): Promise<{ manifest: Manifest; results: StageResults; dir: string }> {
  const { model, tokenizer, bos, corpus, outDir } = input;
  const c = model.config;
  const L = c.nLayers;
  const requested = [...(opts.analyses ?? (opts.probeFile ? [...DEFAULT_ANALYSES, 'probe' as const] : DEFAULT_ANALYSES))];
  for (const a of requested) if (!STAGE_ANALYSES.includes(a)) throw new LayerlabError(`unknown analysis '${a}' (known: ${STAGE_ANALYSES.join(', ')})`);
  const protocol = opts.protocol ?? DEFAULT_PROTOCOL;
  const { seqLen } = resolveSeqLen(c, opts.seqLen, stagesSeqLenCap(protocol));
  const maxDocTokens = docTokenLimit(protocol, seqLen, opts.maxDocTokens);
  const batchTokens = opts.batchTokens ?? 4096;
  const repeatDocs = opts.repeatDocs ?? 10;
  const repeatLengths = (opts.repeatBlockLengths ?? [3, 5]);

  const choices: Record<string, unknown> = {
    data: { seq_len: seqLen, windows: '[BOS] + next seq_len-1 tokens of one document (documents never packed together)', max_tokens: opts.maxTokens ?? null, max_docs: opts.maxDocs ?? null, batch_tokens: batchTokens, shard_docs: opts.shardDocs ?? DEFAULT_SHARD_DOCS, ...corpusChoices(protocol, seqLen, opts.maxDocTokens) },
    protocol,
    bos,
    positions: 'every per-token metric uses the positions after BOS (the last included)',
    error_bars: 'std = sample std over pooled tokens; sem = standard error across documents',
    local_attention: { include_bos: opts.includeBosAttention ?? true, windows: opts.attentionWindows ?? [1, 2, 4, 8, 16] },
    neurons: { mode: opts.neuronMode ?? 'tl', threshold: opts.neuronThreshold ?? 10 },
    repeat: { block_lengths: repeatLengths, documents: repeatDocs },
    // Option objects recorded as given: their in-memory camelCase names become snake_case keys.
    cka: snakeCaseKeys(opts.cka ?? {}),
    subword: snakeCaseKeys(opts.subword ?? {}),
    wic: opts.wicDir ? { dir: opts.wicDir, ...(snakeCaseKeys(opts.wic ?? {}) as object) } : 'skipped (no --wic folder)',
    probe: opts.probeFile ?? null,
    // Only when given, so the keys of runs made before the "-ing" probe existed still match.
    ...(opts.ingProbe ? { ing_probe: snakeCaseKeys(opts.ingProbe) } : {}),
    sweep: opts.sweepDir ?? null,
  };
  const key = {
    model: model.source.modelId ?? model.source.dir, modelDigest: modelFingerprint(model.source.dir), data: corpus.sha256, requested, choices,
    // Only bf16 runs carry the dtype, so keys of f32 runs made before --dtype existed still match.
    ...(model.dtype === 'bf16' ? { dtype: 'bf16' } : {}),
  };
  const run = ResumableRun.open(outDir, key, { fresh: opts.fresh, reuseFinished: opts.reuseFinished });
  if (run.finishedBefore) {
    log(opts, `stages: ${outDir} is already complete for this command; kept as it is`);
    return { manifest: readResult(join(outDir, MANIFEST_FILE), MANIFEST_FILE), results: {}, dir: outDir };
  }
  const prov = provenance(model);

  // Windows (deterministic from the corpus and options): the data is read and tokenized once per run.
  const windows = makeWindows(corpus.docs, input.encoder ?? tokenizer, { bos, seqLen, maxTokens: opts.maxTokens, maxDocs: opts.maxDocs, maxDocTokens });
  if (windows.windows.length === 0) throw new LayerlabError('the corpus gives no tokens', input.dataFile);
  const data: DataProvenance = {
    file: input.dataFile, sha256: corpus.sha256, format: corpus.format, documents: Math.min(corpus.docs.length, opts.maxDocs ?? Infinity),
    windows: windows.windows.length, tokens: windows.tokens, seq_len: seqLen, max_tokens: opts.maxTokens, max_docs: opts.maxDocs,
  };

  const manifest: Manifest = {
    kind: 'stages', provenance: prov, data, choices, ...protocolManifest(protocol), requested, complete: [], command: input.command ?? [],
    // Queue runs record where the jobs ran (queue, run id, model digest); in-process manifests are as before.
    ...(opts.runner ? { execution: opts.runner.description } : {}),
  };
  const results: StageResults = {};
  const file = (a: StageAnalysis) => STAGE_FILES[a];
  const done = (a: StageAnalysis) => run.hasResult(file(a));
  const writeManifest = () => {
    manifest.complete = requested.filter(done);
    run.writeResult(MANIFEST_FILE, manifest);
  };
  const ctx: StageContext = { model, tokenizer, bos, corpus, opts, results, log: (m) => log(opts, m) };
  const save = (a: StageAnalysis, out: { choices: Record<string, unknown>; body: Record<string, unknown> }) => {
    const r = { analysis: a, provenance: prov, choices: { protocol, ...out.choices }, layers: L, ...out.body } as StageResult;
    (results as Record<string, StageResult>)[a] = r;
    run.writeResult(file(a), r);
    writeManifest();
  };
  for (const a of requested) if (done(a)) (results as Record<string, StageResult>)[a] = readResult(join(outDir, file(a))) as StageResult;
  writeManifest();

  const todo = analysesFor(opts.protocol).filter((a) => requested.includes(a.name) && !done(a.name));
  for (const phase of [0, 1, 2, 3] as const) {
    const here = todo.filter((a) => a.phase === phase);
    if (phase === 3)
      // Derived analyses also read results of this folder that were not requested this time.
      for (const a of ANALYSES) {
        const p = join(outDir, file(a.name));
        if (!results[a.name] && existsSync(p)) (results as Record<string, StageResult>)[a.name] = readResult(p) as StageResult;
      }
    const streaming = here.filter((a): a is StreamingAnalysis => a.kind === 'streaming');
    if (streaming.length > 0) {
      const states = await runStreamingJobs(run, ctx, streaming, windows, batchTokens, key, outDir);
      streaming.forEach((a, i) => save(a.name, a.result(states[i], ctx)));
    }
    for (const a of here) if (a.kind === 'whole') save(a.name, a.run(ctx));
  }

  manifest.finished_at = new Date().toISOString();
  writeManifest();
  run.finish();
  return { manifest, results, dir: outDir };
}

/**
 * The streaming phase as jobs, one per data shard, run by the run's JobRunner (in-process or a queue),
 * then merged in shard order. A job's states are saved when it finishes (`stream-job-K`) and, in-process,
 * checkpointed while it runs (`stream-job-K-partial`).
 */
async function runStreamingJobs(
  run: ResumableRun, ctx: StageContext, analyses: StreamingAnalysis[], windows: { windows: Int32Array[]; docIndex: number[] }, batchTokens: number,
  key: unknown, outDir: string,
): Promise<unknown[]> {
  const { opts } = ctx;
  const shards = shardWindows(windows.docIndex, opts.shardDocs);
  const jobs: RunJob[] = shards.map((sh, k) => {
    const batches = packBatches(windows.windows.slice(sh.start, sh.end), batchTokens);
    return {
      name: `stream-job-${k}`,
      units: batches.length,
      tokens: batches.reduce((n, b) => n + b.batch * (b.seq - 1), 0),
      describe: `shard ${k + 1} of ${shards.length} (${analyses.map((a) => a.name).join(', ')})`,
      payload: () => ({
        kind: 'stages', shard: k, analyses: analyses.map((a) => a.name), batchTokens,
        windows: packWindows(windows.windows.slice(sh.start, sh.end), windows.docIndex.slice(sh.start, sh.end)),
        options: { includeBosAttention: opts.includeBosAttention, attentionWindows: opts.attentionWindows, repeatBlockLengths: opts.repeatBlockLengths, repeatDocs: opts.repeatDocs, cka: opts.cka, protocol: opts.protocol },
      }),
    };
  });
  const finished = (k: number) => run.loadStateBytes(`stream-job-${k}`);
  const runner = opts.runner ?? inProcessRunner(ctx.model);
  await runner.runJobs(jobs, { finished: (n) => run.loadStateBytes(n), saveFinished: (n, b) => run.saveStateBytes(n, b), partial: run }, {
    command: 'stages', key, out: outDir, unit: 'batches', progress: opts.progress, order: opts.jobOrder, onUnits: opts.onBatch, saveEverySeconds: opts.saveEverySeconds,
  });
  // Merge in shard order (never in execution order), from the saved states: the same bytes wherever and
  // whenever each job ran.
  let merged: unknown[] | undefined;
  for (let k = 0; k < jobs.length; k++) {
    const saved = decodeState<{ states: Uint8Array[] }>(finished(k)!);
    const states = analyses.map((a, i) => a.decode(saved.states[i], ctx));
    merged = merged ? analyses.map((a, i) => a.merge(merged![i], states[i])) : states;
  }
  return merged!;
}
