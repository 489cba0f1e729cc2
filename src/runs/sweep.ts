import { DEFAULT_PROTOCOL, type Protocol } from '../protocol/protocol.js';
import { protocolManifest } from '../protocol/choices.js';
import { corpusChoices, docTokenLimit } from '../protocol/corpus.js';
import { PAPER_ENTROPY_FLOOR } from '../sweep/clamped-entropy.js';
import { resolve } from 'node:path';
import { readDocuments, type DocumentSet } from '../data/documents.js';
import { makeWindows, type TokenEncoder } from '../data/windows.js';
import { modelFingerprint } from '../load/fingerprint.js';
import { loadTokenizer, requireBos } from '../load/tokenizer.js';
import { defaultPlan } from '../model/forward.js';
import type { Model } from '../model/model.js';
import { ResumableRun } from '../results/resumable-run.js';
import { writeTextAtomic } from '../results/run-dir.js';
import { MANIFEST_FILE, METRICS_CSV, METRICS_JSON } from '../results/run-files.js';
import type { DataProvenance, Manifest } from '../results/schema.js';
import { LayerlabError } from '../util/errors.js';
import { resolveSeqLen } from '../model/context.js';
import { provenance } from '../util/provenance.js';
import { sweepBatches } from '../sweep/engine.js';
import { sweepMetricsAnalysis, type SweepMetricsState } from '../sweep/metrics-analysis.js';
import { DEFAULT_SHARD_DOCS, shardWindows } from './shards.js';
import { packWindows } from './jobs.js';
import { inProcessRunner, type JobRunner, type RunJob } from './job-runner.js';
import { encodeSweepJob } from './sweep-job.js';

export { encodeSweepJob };
import { generateInterventions, specToString, type InterventionSpec } from '../sweep/interventions.js';
import { baselineBlock, interventionRows, metricsCsv, sweepResult, SUMMARY_DEFINITION } from '../sweep/output.js';

/** Default window length: the model's context, capped (attention cost grows with T^2; the paper's largest n_ctx is 2048). */
export const SEQ_LEN_CAP = 2048;
/** Default cap on tokens per batch: a batch is also the unit of checkpointing. */
export const BATCH_TOKENS_CAP = 4096;

export interface SweepRunOptions {
  /** The authors' protocol or layerlab's (default 'layerlab'); see src/protocol/. */
  protocol?: Protocol;
  data: string;
  specs: InterventionSpec[];
  textField: string;
  maxDocs?: number;
  maxTokens?: number;
  /** Use only the first N tokens of each document (default: all; under `paper`, seq_len − 1). */
  maxDocTokens?: number;
  seqLen?: number;
  batchTokens?: number;
  batchMb: number;
  prefixCacheMb: number;
  out: string;
  fresh?: boolean;
  /** Keep a finished run of the same command as it is (layerlab paper resuming). */
  reuseFinished?: boolean;
  command?: string[];
  /** The documents, when the caller read them already (layerlab paper reads the data once per run). */
  corpus?: DocumentSet;
  /** Tokenizer for the windows (default: the model's), e.g. one that caches documents across phases. */
  encoder?: TokenEncoder;
  /** Documents per data shard, one job each (default DEFAULT_SHARD_DOCS). */
  shardDocs?: number;
  /** Split the plans into subtrees (by first block), one job each per shard (library option). */
  splitPlans?: boolean;
  /** Test hook: the order jobs execute in (a permutation of 0..jobs-1). */
  jobOrder?: (jobs: number) => number[];
  /** Where the jobs run (default: in this process); `--queue` gives the queue coordinator (src/queue/). */
  runner?: JobRunner;
}

/**
 * Test-only: LAYERLAB_TEST_KILL_AFTER_UNITS=n makes the process SIGKILL itself right after its n-th
 * saved batch state, so tests can check resumption deterministically. Never set it otherwise.
 */
export function killHook(): () => void {
  const n = Number(process.env.LAYERLAB_TEST_KILL_AFTER_UNITS ?? 0);
  let saved = 0;
  return () => {
    saved++;
    if (n > 0 && saved >= n) process.kill(process.pid, 'SIGKILL');
  };
}

/** A whole sweep into a run folder: data, plans, resumable execution, metrics.json/csv and manifest. */
export async function executeSweep(model: Model, opts: SweepRunOptions): Promise<void> {
  const { specs, maxDocs, maxTokens } = opts;
  const batchMb = opts.batchMb, prefixCacheMb = opts.prefixCacheMb;
  const c = model.config, L = c.nLayers;
  const { seqLen, source: seqLenSource } = resolveSeqLen(c, opts.seqLen, SEQ_LEN_CAP);
  const interventions = generateInterventions(specs, L);

  const tok = loadTokenizer(model.source.dir, c);
  const bos = requireBos(tok, model.source.dir);
  const docs = opts.corpus ?? (await readDocuments(opts.data, { textField: opts.textField, maxDocs }));
  const protocol = opts.protocol ?? DEFAULT_PROTOCOL;
  const maxDocTokens = docTokenLimit(protocol, seqLen, opts.maxDocTokens);
  const win = makeWindows(docs.docs, opts.encoder ?? tok, { bos, seqLen, maxTokens, maxDocs, maxDocTokens });
  if (win.tokens === 0) throw new LayerlabError('the documents gave no tokens', opts.data);

  const rowsByMemory = Math.floor((batchMb * 2 ** 20) / (c.vocabSize * 4));
  const batchTokens = opts.batchTokens ?? Math.max(1, Math.min(BATCH_TOKENS_CAP, rowsByMemory));
  const shards = shardWindows(win.docIndex, opts.shardDocs);
  const shardData = shards.map((sh) => ({ windows: win.windows.slice(sh.start, sh.end), docIndex: win.docIndex.slice(sh.start, sh.end) }));
  const plans = interventions.map((i) => i.plan);
  const groups = planGroups(plans, opts.splitPlans ?? false);
  const batchCount = shardData.reduce((n, d) => n + sweepBatches(d, batchTokens).length, 0);
  const docsUsed = new Set(win.docIndex).size;

  const prov = provenance(model);
  const dataProv: DataProvenance = {
    file: resolve(opts.data), sha256: docs.sha256, format: docs.format, documents: docsUsed, windows: win.windows.length,
    tokens: win.tokens, seq_len: seqLen, max_tokens: maxTokens, max_docs: maxDocs,
  };
  // The authors' entropy clamp, under --protocol paper only (src/sweep/clamped-entropy.ts).
  const entropyFloor = protocol === 'paper' ? PAPER_ENTROPY_FLOOR : undefined;
  const choices = { ...sweepChoices({ seqLen, seqLenSource, bos, batchTokens, batches: batchCount, prefixCacheMb, batchMb, textField: opts.textField, maxDocTokens, entropyFloor }), ...corpusChoices(protocol, seqLen, opts.maxDocTokens) };
  const key = {
    command: 'sweep', model: prov.model, modelDir: prov.model_dir, modelCommit: prov.model_commit, modelDigest: modelFingerprint(model.source.dir), data: docs.sha256, textField: opts.textField,
    maxDocs, maxTokens, seqLen, batchTokens, shardDocs: opts.shardDocs ?? DEFAULT_SHARD_DOCS, splitPlans: opts.splitPlans ?? false, plans,
    // Only bf16 runs carry the dtype, so keys of f32 runs made before --dtype existed still match.
    ...(prov.dtype === 'bf16' ? { dtype: prov.dtype } : {}),
    // Likewise the protocol and the per-document limit: a different protocol is a different run.
    ...(protocol !== DEFAULT_PROTOCOL ? { protocol } : {}), ...(maxDocTokens !== undefined ? { maxDocTokens } : {}),
  };
  const run = ResumableRun.open(opts.out, key, { fresh: opts.fresh, reuseFinished: opts.reuseFinished });
  if (run.finishedBefore) {
    process.stderr.write(`sweep: ${opts.out} is already complete for this command; kept as it is\n`);
    return;
  }
  const manifest: Manifest & Record<string, unknown> = {
    kind: 'sweep', provenance: prov, data: dataProv, choices, ...protocolManifest(protocol), requested: specs.map(specToString), complete: [],
    command: opts.command ?? process.argv.slice(2),
    layers: L,
    interventions: interventions.map(({ name, kind, layer, plan }) => ({ name, kind, layer, plan })),
    // Queue runs record where the jobs ran (queue, run id, model digest); in-process manifests are as before.
    ...(opts.runner ? { execution: opts.runner.description } : {}),
  };
  run.writeResult(MANIFEST_FILE, manifest);

  const afterSave = killHook();
  // Jobs = data shard x plan group, executed anywhere in any order (opts.runner: in-process or a queue);
  // their states are merged in shard order, then plan order, so the numbers depend only on the data, the
  // options and the shard size.
  const jobs = shards.flatMap((sh) => groups.map((g, gi) => ({ shard: sh.index, group: gi, plans: g.map((p) => plans[p]), name: `sweep-job-${sh.index}-${gi}` })));
  const runJobs: RunJob[] = jobs.map((job) => {
    const data = shardData[job.shard];
    const batches = sweepBatches(data, batchTokens);
    return {
      name: job.name,
      units: batches.length * job.plans.length,
      tokens: data.windows.reduce((n, w) => n + w.length - 1, 0),
      describe: `shard ${job.shard + 1} of ${shards.length}, plans ${groups[job.group][0]}..${groups[job.group].at(-1)} (subtree ${job.group + 1} of ${groups.length})`,
      payload: () => ({
        kind: 'sweep', shard: job.shard, group: job.group, plans: job.plans.map((p) => [...p]),
        windows: packWindows(data.windows, data.docIndex),
        options: { maxBatchTokens: batchTokens, prefixCacheBytes: prefixCacheMb * 2 ** 20, ...(entropyFloor !== undefined ? { entropyFloor } : {}) },
      }),
    };
  });
  const runner = opts.runner ?? inProcessRunner(model);
  await runner.runJobs(runJobs, {
    finished: (name) => run.loadStateBytes(name),
    saveFinished: (name, bytes) => {
      run.saveStateBytes(name, bytes);
      afterSave();
    },
    // Partial state of a running job, saved after each batch (and counted by the test kill hook).
    partial: {
      loadState: (name) => (run.resumed ? run.loadState(name) : undefined),
      saveState: (name, value) => {
        run.saveState(name, value);
        afterSave();
      },
      loadStateBytes: (name) => run.loadStateBytes(name),
      saveStateBytes: (name, bytes) => run.saveStateBytes(name, bytes),
    },
  }, { command: 'sweep', key, out: opts.out, unit: 'plan runs', order: opts.jobOrder });
  const outcome = mergeSweepJobs(jobs.map((j) => ({ ...j, bytes: run.loadStateBytes(j.name)! })), groups, plans.length);

  const baseline = baselineBlock(defaultPlan(L), outcome.baseline);
  const rows = interventionRows(interventions, outcome.plans, baseline, L);
  const result = sweepResult({ provenance: prov, layers: L, data: dataProv, choices, baseline, rows });
  run.writeResult(METRICS_JSON, result);
  writeTextAtomic(resolve(opts.out, METRICS_CSV), metricsCsv(rows));
  run.track(METRICS_CSV);
  run.writeResult(MANIFEST_FILE, { ...manifest, complete: specs.map(specToString), finished_at: new Date().toISOString() });
  run.finish();
  const summary = Object.entries(result.summary).map(([k, s]) => `${k}: mean agreement ${(100 * s.mean_agreement).toFixed(1)}%`).join(', ');
  process.stderr.write(`wrote ${opts.out}/metrics.json and metrics.csv: ${rows.length} interventions over ${win.tokens.toLocaleString('en-US')} tokens (${summary})\n`);
}


/** Every choice that changes numbers, recorded in manifest.json and metrics.json. */
export function sweepChoices(a: { seqLen: number; seqLenSource: string; bos: number; batchTokens: number; batches: number; prefixCacheMb: number; batchMb: number; textField: string; maxDocTokens?: number; entropyFloor?: number }): Record<string, unknown> {
  const cut = a.maxDocTokens === undefined ? '' : `, of which only the first ${a.maxDocTokens} tokens are used`;
  return {
    documents: 'documents in file order (the first --max-docs), each tokenized without special tokens; no filtering',
    windows: `each document its own sequence${cut}: [BOS] + up to ${a.seqLen - 1} tokens; longer documents are cut into consecutive windows, each starting with BOS (no text repeated); stops at --max-tokens (last window cut to hit it exactly)`,
    seq_len: a.seqLen,
    seq_len_source: a.seqLenSource,
    bos_token_id: a.bos,
    text_field: a.textField,
    positions_loss_accuracy: 'position t predicts token t+1 for t = 0..T-2 of every window: every non-BOS token is predicted once, the first from BOS alone',
    positions_kl_agreement_entropy: 'every position after BOS, t = 1..T-1 (the last position, which has no label, included; the BOS position excluded), as the paper\'s code',
    pooling: 'means pool tokens over the whole corpus (every token weighs the same)',
    std: 'sample standard deviation over tokens (divisor n-1); the figures\' "std" band is the std across documents (sem x sqrt(docs))',
    sem: 'standard error across documents: sample std of the per-document means / sqrt(documents); windows of one document count as one document',
    kl: 'KL(P_original || Q_intervened) = sum_v p_v (ln p_v - ln q_v), natural log (nats), over the full vocabulary, per position, from float32 logits with float64 sums',
    agreement: 'top-1 agreement with the original model ("relative accuracy"): 1[argmax q_t = argmax p_t]; ties go to the lowest token id',
    accuracy: 'next-token accuracy against the data: 1[argmax q_t = x_{t+1}] (and the same for the original model)',
    loss: 'cross-entropy -ln q(x_{t+1}) in nats, per predicted token',
    entropy: a.entropyFloor === undefined
      ? 'entropy in bits of each model\'s next-token distribution, computed exactly from the logits (the paper\'s code clamps p at 1e-9 first, which adds at most V x 3.0e-8 bits: 1.5e-3 bits for a 50k vocabulary; --protocol paper does that)'
      : `entropy in bits of each model\'s next-token distribution with every probability clamped at ${a.entropyFloor} before summing -p log2 p, as the paper\'s code (compute_base2_entropy): up to 3.0e-8 bits more than the exact entropy per token below the floor`,
    deletion: 'delete(l): block l is skipped (its residual stream passes through), for every l = 0..L-1',
    swap: 'swap(l): blocks l+1 then l, for every adjacent pair l = 0..L-2; each block keeps its own weights and norms; positions and RoPE unchanged',
    repeat: 'repeat:K at s: blocks s..s+K-1 each run twice in a row (K=3 at 5: ...4,5,5,6,6,7,7,8...), for every s = 0..L-K',
    layer_field: 'layer = the first block touched: the deleted block, the first of the swapped pair, the first repeated block; for a custom plan the first slot where it departs from 0..L-1 (-1 for the identity plan)',
    summary: SUMMARY_DEFINITION,
    weights: 'no TransformerLens weight processing (fold_ln, centering): it leaves logits unchanged, so it does not change these metrics',
    compute: 'float32 forward passes, float64 accumulation',
    batch_tokens: a.batchTokens,
    batches: a.batches,
    batching: 'windows sorted by length (longest first, then corpus order) and grouped while batch x longest <= batch_tokens and each window is >= 3/4 of the longest; shorter windows are right-padded, which cannot change their logits (causal attention) and padded positions are never scored; accumulation follows this order',
    batch_mb: a.batchMb,
    prefix_cache_mb: a.prefixCacheMb,
    execution: 'trie of plans: plans that share a prefix share its computation (identical numbers to recomputing every plan)',
  };
}

/**
 * Plan groups of the job graph: all plans in one group, or one group per subtree of the plan trie's root
 * (plans starting with the same block share their first block's computation, so subtrees split the work
 * without losing prefix sharing). Indices into `plans`, in plan order.
 */
export function planGroups(plans: readonly (readonly number[])[], split: boolean): number[][] {
  if (!split) return [plans.map((_, i) => i)];
  const byFirst = new Map<number, number[]>();
  plans.forEach((p, i) => byFirst.set(p[0] ?? -1, [...(byFirst.get(p[0] ?? -1) ?? []), i]));
  return [...byFirst.values()];
}

/**
 * Merges job states in the fixed order: shard by shard (in shard order), each plan's accumulators in plan
 * order; the baseline of a shard comes from its first plan group (every group computes the same one).
 */
export function mergeSweepJobs(
  jobs: Array<{ shard: number; group: number; bytes: Uint8Array }>, groups: number[][], nPlans: number,
): SweepMetricsState {
  const m = sweepMetricsAnalysis;
  const sorted = [...jobs].sort((a, b) => a.shard - b.shard || a.group - b.group);
  let merged: SweepMetricsState | undefined;
  for (const shard of [...new Set(sorted.map((j) => j.shard))]) {
    // One shard's state over every plan: its groups' plans put back in plan order.
    const full = m.init(nPlans);
    for (const j of sorted.filter((x) => x.shard === shard)) {
      const st = m.decode(j.bytes);
      if (j.group === 0) full.baseline = st.baseline;
      groups[j.group].forEach((p, i) => (full.plans[p] = st.plans[i]));
    }
    merged = merged ? m.merge(merged, full) : full;
  }
  return merged!;
}
