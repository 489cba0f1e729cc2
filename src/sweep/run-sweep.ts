import { resolve } from 'node:path';
import { readDocuments } from '../data/documents.js';
import { makeWindows } from '../data/windows.js';
import { loadTokenizer, requireBos } from '../load/tokenizer.js';
import { defaultPlan } from '../model/forward.js';
import type { Model } from '../model/model.js';
import { ResumableRun } from '../results/resumable-run.js';
import { writeTextAtomic } from '../results/run-dir.js';
import type { DataProvenance, Manifest } from '../results/schema.js';
import { LayerlabError } from '../util/errors.js';
import { ProgressBar } from '../util/progress.js';
import { provenance } from '../util/provenance.js';
import { runSweep, sweepBatches, type SweepState } from './engine.js';
import { generateInterventions, specToString, type InterventionSpec } from './interventions.js';
import { baselineBlock, interventionRows, metricsCsv, sweepResult, SUMMARY_DEFINITION } from './output.js';

/** Default window length: the model's context, capped (attention cost grows with T^2; the paper's largest n_ctx is 2048). */
export const SEQ_LEN_CAP = 2048;
/** Default cap on tokens per batch: a batch is also the unit of checkpointing. */
export const BATCH_TOKENS_CAP = 4096;

export interface SweepRunOptions {
  data: string;
  specs: InterventionSpec[];
  textField: string;
  maxDocs?: number;
  maxTokens?: number;
  seqLen?: number;
  batchTokens?: number;
  batchMb: number;
  prefixCacheMb: number;
  out: string;
  fresh?: boolean;
  /** Keep a finished run of the same command as it is (layerlab paper resuming). */
  reuseFinished?: boolean;
  command?: string[];
}

/**
 * Test-only: LAYERLAB_TEST_KILL_AFTER_UNITS=n makes the process SIGKILL itself right after its n-th
 * saved batch state, so tests can check resumption deterministically. Never set it otherwise.
 */
function killHook(): () => void {
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
  let seqLen = opts.seqLen;
  if (seqLen !== undefined && seqLen < 2) throw new LayerlabError('--seq-len must be at least 2 (BOS plus one token)');
  const c = model.config, L = c.nLayers;
  const interventions = generateInterventions(specs, L);
  const seqLenSource = seqLen === undefined ? `model context ${c.nCtx}, capped at ${SEQ_LEN_CAP}` : '--seq-len';
  seqLen ??= Math.min(c.nCtx, SEQ_LEN_CAP);
  if (seqLen > c.nCtx && c.positional === 'learned')
    throw new LayerlabError(`--seq-len ${seqLen} is longer than the model's ${c.nCtx} learned positions`);

  const tok = loadTokenizer(model.source.dir, c);
  const bos = requireBos(tok, model.source.dir);
  const docs = await readDocuments(opts.data, { textField: opts.textField, maxDocs });
  const win = makeWindows(docs.docs, tok, { bos, seqLen, maxTokens, maxDocs });
  if (win.tokens === 0) throw new LayerlabError('the documents gave no tokens', opts.data);

  const rowsByMemory = Math.floor((batchMb * 2 ** 20) / (c.vocabSize * 4));
  const batchTokens = opts.batchTokens ?? Math.max(1, Math.min(BATCH_TOKENS_CAP, rowsByMemory));
  const data = { windows: win.windows, docIndex: win.docIndex };
  const batches = sweepBatches(data, batchTokens);
  const docsUsed = new Set(win.docIndex).size;

  const prov = provenance(model);
  const dataProv: DataProvenance = {
    file: resolve(opts.data), sha256: docs.sha256, format: docs.format, documents: docsUsed, windows: win.windows.length,
    tokens: win.tokens, seqLen, maxTokens, maxDocs,
  };
  const choices = sweepChoices({ seqLen, seqLenSource, bos, batchTokens, batches: batches.length, prefixCacheMb, batchMb, textField: opts.textField });
  const key = {
    command: 'sweep', model: prov.model, modelDir: prov.model_dir, modelCommit: prov.model_commit, data: docs.sha256, textField: opts.textField,
    maxDocs, maxTokens, seqLen, batchTokens, plans: interventions.map((i) => i.plan),
    // Only bf16 runs carry the dtype, so keys of f32 runs made before --dtype existed still match.
    ...(prov.dtype === 'bf16' ? { dtype: prov.dtype } : {}),
  };
  const run = ResumableRun.open(opts.out, key, { fresh: opts.fresh, reuseFinished: opts.reuseFinished });
  if (run.finishedBefore) {
    process.stderr.write(`sweep: ${opts.out} is already complete for this command; kept as it is\n`);
    return;
  }
  const manifest: Manifest & Record<string, unknown> = {
    kind: 'sweep', provenance: prov, data: dataProv, choices, requested: specs.map(specToString), complete: [],
    command: opts.command ?? process.argv.slice(2),
    layers: L,
    interventions: interventions.map(({ name, kind, layer, plan }) => ({ name, kind, layer, plan })),
  };
  run.writeResult('manifest.json', manifest);

  const state = run.loadState<SweepState>('sweep');
  if (run.resumed && state) process.stderr.write(`layerlab: resuming ${opts.out}: ${state.batchesDone} of ${state.batches} batches done\n`);
  const bar = new ProgressBar('sweep', 'plan runs');
  const afterSave = killHook();
  const outcome = runSweep(model, interventions.map((i) => i.plan), data, {
    maxBatchTokens: batchTokens,
    prefixCacheBytes: prefixCacheMb * 2 ** 20,
    state,
    onBatch: (s) => {
      run.saveState('sweep', s);
      afterSave();
    },
    onProgress: (p) => bar.update({ done: p.planRunsDone, total: p.planRuns, detail: `batch ${p.batchesDone}/${p.batches}, ${p.tokensDone.toLocaleString('en-US')}/${p.tokens.toLocaleString('en-US')} tokens` }),
  });

  const baseline = baselineBlock(defaultPlan(L), outcome.baseline);
  const rows = interventionRows(interventions, outcome.plans, baseline, L);
  const result = sweepResult({ provenance: prov, layers: L, data: dataProv, choices, baseline, rows });
  run.writeResult('metrics.json', result);
  writeTextAtomic(resolve(opts.out, 'metrics.csv'), metricsCsv(rows));
  run.track('metrics.csv');
  run.writeResult('manifest.json', { ...manifest, complete: specs.map(specToString), finishedAt: new Date().toISOString() });
  run.finish();
  const summary = Object.entries(result.summary).map(([k, s]) => `${k}: mean agreement ${(100 * s.mean_agreement).toFixed(1)}%`).join(', ');
  process.stderr.write(`wrote ${opts.out}/metrics.json and metrics.csv: ${rows.length} interventions over ${win.tokens.toLocaleString('en-US')} tokens (${summary})\n`);
}


/** Every choice that changes numbers, recorded in manifest.json and metrics.json. */
export function sweepChoices(a: { seqLen: number; seqLenSource: string; bos: number; batchTokens: number; batches: number; prefixCacheMb: number; batchMb: number; textField: string }): Record<string, unknown> {
  return {
    documents: 'documents in file order (the first --max-docs), each tokenized without special tokens; no filtering',
    windows: `each document its own sequence: [BOS] + up to ${a.seqLen - 1} tokens; longer documents are cut into consecutive windows, each starting with BOS (no text dropped or repeated); stops at --max-tokens (last window cut to hit it exactly)`,
    seq_len: a.seqLen,
    seq_len_source: a.seqLenSource,
    bos_token_id: a.bos,
    text_field: a.textField,
    positions_loss_accuracy: 'position t predicts token t+1 for t = 0..T-2 of every window: every non-BOS token is predicted once, the first from BOS alone',
    positions_kl_agreement_entropy: 'every position after BOS, t = 1..T-1 (the last position, which has no label, included; the BOS position excluded), as the paper\'s code',
    pooling: 'means pool tokens over the whole corpus (every token weighs the same)',
    std: 'sample standard deviation over tokens (divisor n-1)',
    sem: 'standard error across documents: sample std of the per-document means / sqrt(documents); windows of one document count as one document',
    kl: 'KL(P_original || Q_intervened) = sum_v p_v (ln p_v - ln q_v), natural log (nats), over the full vocabulary, per position, from float32 logits with float64 sums',
    agreement: 'top-1 agreement with the original model ("relative accuracy"): 1[argmax q_t = argmax p_t]; ties go to the lowest token id',
    accuracy: 'next-token accuracy against the data: 1[argmax q_t = x_{t+1}] (and the same for the original model)',
    loss: 'cross-entropy -ln q(x_{t+1}) in nats, per predicted token',
    entropy: 'entropy in bits of each model\'s next-token distribution, computed exactly from the logits (the paper\'s code clamps p at 1e-9 first, a difference below 1e-6 bits for these vocabularies)',
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
