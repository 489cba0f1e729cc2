/**
 * Runs the stage analyses (paper spec §5) on one model and corpus into a resumable run folder:
 * DIR/manifest.json (kind 'stages') plus one DIR/<analysis>.json per analysis.
 *
 * - Weight-only: neurons.
 * - Streaming over the corpus windows, sharing **one forward per batch** (hooks registered together):
 *   local-attention (attn.hook_pattern), logit-lens (hook_resid_pre of block 0 + every hook_resid_post),
 *   mlp-norm (hook_mlp_out), cka (hook_resid_post), repeat (the shared forward's logits as baseline plus
 *   one forward per repeat plan, on the first `repeatDocs` documents). Their accumulators are saved after
 *   a batch at most every `saveEverySeconds` (5), so a killed run redoes at most that much work; their
 *   files are written together at the end.
 * - Own inputs: subword-heads (examples built from the corpus), wic (--wic DIR; recorded as skipped
 *   without it), probe (--probe FILE).
 * - Derived: stages (boundaries from the other results; deletion KL from --sweep DIR when given).
 * A finished analysis file is never recomputed on resume.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { forward } from '../model/forward.js';
import type { Model } from '../model/model.js';
import type { TextTokenizer } from '../load/tokenizer.js';
import { makeWindows, packBatches, type Batch } from '../data/windows.js';
import type { DocumentSet } from '../data/documents.js';
import { ResumableRun } from '../results/resumable-run.js';
import { readJson } from '../results/run-dir.js';
import {
  ANALYSIS_FILES, type CkaResult, type DataProvenance, type LocalAttentionResult, type LogitLensResult, type Manifest, type MlpNormResult,
  type NeuronsResult, type ProbeResult, type RepeatResult, type StageBoundariesResult, type StageFileBase, type SubwordHeadsResult,
} from '../results/schema.js';
import { ProgressBar } from '../util/progress.js';
import { provenance } from '../util/provenance.js';
import { LayerlabError } from '../util/errors.js';
import { CkaAnalysis, type CkaOptions, type CkaState } from './cka-analysis.js';
import { LocalAttentionAccumulator, type LocalAttentionState } from './local-attention.js';
import { LOGIT_LENS_CHOICES, LogitLensAccumulator, type LogitLensState } from './logit-lens.js';
import { MLP_NORM_CHOICES, MlpNormAccumulator } from './mlp-norm.js';
import { neuronCounts } from './neurons.js';
import { RepeatAccumulator, type RepeatState } from './layer-repeat.js';
import { buildSubwordDataset, scoreSubwordHeads, type SubwordDatasetOptions, type SubwordHeadOptions } from './subword-heads.js';
import { runWicProbe, type WicOptions } from './wic-probe.js';
import { readSpanProbe, runSpanProbe } from './probes.js';
import { proposeStages } from './stage-boundaries-analysis.js';
import type { WeightMode } from './weight-processing.js';
import type { GroupedStatsJSON } from './math/running-stats.js';

export const STAGE_ANALYSES = ['local-attention', 'subword-heads', 'logit-lens', 'neurons', 'mlp-norm', 'repeat', 'cka', 'wic', 'probe', 'stages'] as const;
export type StageAnalysis = (typeof STAGE_ANALYSES)[number];
/** What `--analyses` means when not given (probe is added when a probe file is given). */
export const DEFAULT_ANALYSES: StageAnalysis[] = ['local-attention', 'subword-heads', 'logit-lens', 'neurons', 'mlp-norm', 'repeat', 'cka', 'wic', 'stages'];
const STREAMING: StageAnalysis[] = ['local-attention', 'logit-lens', 'mlp-norm', 'cka', 'repeat'];

export const STAGE_FILES: Record<StageAnalysis, string> = ANALYSIS_FILES;

export interface StagesOptions {
  analyses?: StageAnalysis[];
  /** Window length including BOS (default min(nCtx, 512)). */
  seqLen?: number;
  maxTokens?: number;
  maxDocs?: number;
  /** Most tokens per forward batch (default 4096). */
  batchTokens?: number;
  includeBosAttention?: boolean;
  attentionWindows?: number[];
  neuronMode?: WeightMode;
  neuronThreshold?: number;
  repeatBlockLengths?: number[];
  /** Repeat analysis on windows of the first N documents only (default 10, as the authors' script). */
  repeatDocs?: number;
  cka?: CkaOptions;
  subword?: SubwordDatasetOptions & SubwordHeadOptions;
  wicDir?: string;
  wic?: WicOptions;
  probeFile?: string;
  sweepDir?: string;
  fresh?: boolean;
  /** Keep a finished run of the same command as it is (layerlab paper resuming). */
  reuseFinished?: boolean;
  /** Progress bar on stderr (default true). */
  progress?: boolean;
  /**
   * The streaming accumulators are saved after a batch when this many seconds passed since the last save
   * (default 5; 0 = after every batch). With real models one batch takes longer, so that is every batch.
   */
  saveEverySeconds?: number;
  /** Called after each streaming batch (batches done, total); an exception stops the run there. */
  onBatch?: (done: number, total: number) => void;
}

export interface StagesInput {
  model: Model;
  tokenizer: TextTokenizer;
  bos: number;
  corpus: DocumentSet;
  dataFile: string;
  outDir: string;
  command?: string[];
}

export type StageResults = Partial<{
  'local-attention': LocalAttentionResult;
  'subword-heads': SubwordHeadsResult;
  'logit-lens': LogitLensResult;
  neurons: NeuronsResult;
  'mlp-norm': MlpNormResult;
  repeat: RepeatResult;
  cka: CkaResult;
  wic: ProbeResult;
  probe: ProbeResult;
  stages: StageBoundariesResult;
}>;

interface StreamState {
  batchesDone: number;
  localAttention?: LocalAttentionState;
  logitLens?: LogitLensState;
  mlpNorm?: { layers: number; norms: GroupedStatsJSON[] };
  cka?: CkaState;
  repeat?: RepeatState;
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
  const seqLen = opts.seqLen ?? Math.min(c.nCtx, 512);
  if (c.positional === 'learned' && seqLen > c.nCtx) throw new LayerlabError(`--seq-len ${seqLen} exceeds the model's ${c.nCtx} positions`);
  const batchTokens = opts.batchTokens ?? 4096;
  const repeatDocs = opts.repeatDocs ?? 10;
  const repeatLengths = (opts.repeatBlockLengths ?? [3, 5]);

  const choices: Record<string, unknown> = {
    data: { seqLen, windows: '[BOS] + next seqLen-1 tokens of one document (documents never packed together)', maxTokens: opts.maxTokens ?? null, maxDocs: opts.maxDocs ?? null, batchTokens },
    bos,
    positions: 'every per-token metric uses the positions after BOS (the last included)',
    errorBars: 'std = sample std over pooled tokens; sem = standard error across documents',
    localAttention: { includeBos: opts.includeBosAttention ?? true, windows: opts.attentionWindows ?? [1, 2, 4, 8, 16] },
    neurons: { mode: opts.neuronMode ?? 'tl', threshold: opts.neuronThreshold ?? 10 },
    repeat: { blockLengths: repeatLengths, documents: repeatDocs },
    cka: opts.cka ?? {},
    subword: opts.subword ?? {},
    wic: opts.wicDir ? { dir: opts.wicDir, ...(opts.wic ?? {}) } : 'skipped (no --wic folder)',
    probe: opts.probeFile ?? null,
    sweep: opts.sweepDir ?? null,
  };
  const key = { model: model.source.modelId ?? model.source.dir, data: corpus.sha256, requested, choices, ...(model.dtype === 'bf16' ? { dtype: 'bf16' } : {}) };
  const run = ResumableRun.open(outDir, key, { fresh: opts.fresh, reuseFinished: opts.reuseFinished });
  if (run.finishedBefore) {
    log(opts, `stages: ${outDir} is already complete for this command; kept as it is`);
    return { manifest: readJson<Manifest>(join(outDir, 'manifest.json')), results: {}, dir: outDir };
  }
  const prov = provenance(model);

  // Windows (deterministic from the corpus and options).
  const windows = makeWindows(corpus.docs, tokenizer, { bos, seqLen, maxTokens: opts.maxTokens, maxDocs: opts.maxDocs });
  if (windows.windows.length === 0) throw new LayerlabError('the corpus gives no tokens', input.dataFile);
  const data: DataProvenance = {
    file: input.dataFile, sha256: corpus.sha256, format: corpus.format, documents: Math.min(corpus.docs.length, opts.maxDocs ?? Infinity),
    windows: windows.windows.length, tokens: windows.tokens, seqLen, maxTokens: opts.maxTokens, maxDocs: opts.maxDocs,
  };

  const manifest: Manifest = { kind: 'stages', provenance: prov, data, choices, requested, complete: [], command: input.command ?? [] };
  const results: StageResults = {};
  const file = (a: StageAnalysis) => STAGE_FILES[a];
  const done = (a: StageAnalysis) => run.hasResult(file(a));
  const writeManifest = () => {
    manifest.complete = requested.filter(done);
    run.writeResult('manifest.json', manifest);
  };
  const base = (analysis: string, extra: Record<string, unknown>): StageFileBase => ({ analysis, provenance: prov, choices: extra, layers: L });
  const save = <T extends StageFileBase>(a: StageAnalysis, r: T) => {
    (results as Record<string, unknown>)[a] = r;
    run.writeResult(file(a), r);
    writeManifest();
  };
  for (const a of requested) if (done(a)) (results as Record<string, unknown>)[a] = readJson(join(outDir, file(a)));
  writeManifest();

  // ---- neurons (weights only) ----
  if (requested.includes('neurons') && !done('neurons')) {
    log(opts, `neurons: vocabulary moments of ${L} x ${c.dMlp} MLP neurons (${opts.neuronMode ?? 'tl'} weights)`);
    const r = neuronCounts(model, { mode: opts.neuronMode, threshold: opts.neuronThreshold });
    save<NeuronsResult>('neurons', { ...base('neurons', r.choices), analysis: 'neurons', mode: r.mode, threshold: r.threshold, perLayer: r.perLayer, top: r.top });
  }

  // ---- streaming analyses: one forward per batch ----
  const streaming = requested.filter((a) => STREAMING.includes(a) && !done(a));
  if (streaming.length > 0) {
    const batches = packBatches(windows.windows, batchTokens);
    const st = run.loadState<StreamState>('stream');
    const want = (a: StageAnalysis) => streaming.includes(a);
    const laOpts = { includeBos: opts.includeBosAttention, windows: opts.attentionWindows };
    const la = want('local-attention') ? (st?.localAttention ? LocalAttentionAccumulator.fromJSON(st.localAttention) : new LocalAttentionAccumulator(L, laOpts)) : undefined;
    const ll = want('logit-lens') ? (st?.logitLens ? LogitLensAccumulator.fromJSON(st.logitLens) : new LogitLensAccumulator(L + 1)) : undefined;
    const mn = want('mlp-norm') ? (st?.mlpNorm ? MlpNormAccumulator.fromJSON(st.mlpNorm) : new MlpNormAccumulator(L)) : undefined;
    const ck = want('cka') ? (st?.cka ? CkaAnalysis.fromJSON(st.cka, model.backend, opts.cka ?? {}) : new CkaAnalysis(L, c.dModel, model.backend, opts.cka)) : undefined;
    const rep = want('repeat') ? (st?.repeat ? RepeatAccumulator.fromJSON(L, repeatLengths, st.repeat) : new RepeatAccumulator(L, repeatLengths)) : undefined;
    let next = st?.batchesDone ?? 0;
    if (next > 0) log(opts, `resuming at batch ${next + 1} of ${batches.length}`);
    const bar = opts.progress === false ? undefined : new ProgressBar('stages', 'batches');
    let tokensDone = 0;
    const saveEveryMs = (opts.saveEverySeconds ?? 5) * 1000;
    let lastSave = Date.now();
    for (let i = 0; i < next; i++) tokensDone += batches[i].batch * (batches[i].seq - 1);
    for (; next < batches.length; next++) {
      const batch = batches[next];
      streamBatch(model, batch, windows.docIndex, { la, ll, mn, ck, rep, repeatDocs });
      tokensDone += batch.batch * (batch.seq - 1);
      if (Date.now() - lastSave >= saveEveryMs || next + 1 === batches.length) {
        run.saveState('stream', {
          batchesDone: next + 1, localAttention: la?.toJSON(), logitLens: ll?.toJSON(), mlpNorm: mn?.toJSON(), cka: ck?.toJSON(), repeat: rep?.toJSON(),
        } satisfies StreamState);
        lastSave = Date.now();
      }
      bar?.update({ done: next + 1, total: batches.length, detail: `${tokensDone.toLocaleString('en-US')} tokens` });
      opts.onBatch?.(next + 1, batches.length);
    }
    if (la) save<LocalAttentionResult>('local-attention', { ...base('local-attention', la.choices()), analysis: 'local-attention', windows: la.windows, includeBos: la.includeBos, perLayer: la.perLayer() });
    if (ll) save<LogitLensResult>('logit-lens', { ...base('logit-lens', { ...LOGIT_LENS_CHOICES }), analysis: 'logit-lens', perPoint: ll.perPoint() });
    if (mn) save<MlpNormResult>('mlp-norm', { ...base('mlp-norm', { ...MLP_NORM_CHOICES }), analysis: 'mlp-norm', perLayer: mn.perLayer() });
    if (ck) save<CkaResult>('cka', { ...base('cka', ck.choices()), analysis: 'cka', ...ck.finish() });
    if (rep) save<RepeatResult>('repeat', { ...base('repeat', { ...rep.choices(), documents: `windows of the first ${repeatDocs} documents` }), analysis: 'repeat', ...rep.result() });
  }

  // ---- sub-word merging heads ----
  if (requested.includes('subword-heads') && !done('subword-heads')) {
    log(opts, 'subword-heads: building the one-token / multi-token word dataset');
    const dataset = buildSubwordDataset(corpus.docs, tokenizer, bos, opts.subword);
    log(opts, `subword-heads: ${dataset.multi.length} multi-token (${dataset.multiTokenCounts.join('/')} tokens) and ${dataset.single.length} one-token examples`);
    const r = scoreSubwordHeads(model, tokenizer, dataset, opts.subword);
    save<SubwordHeadsResult>('subword-heads', { ...base('subword-heads', { ...r.choices, multiTokenCounts: dataset.multiTokenCounts }), analysis: 'subword-heads', examples: r.examples, heads: r.heads, heatmap: r.heatmap });
  }

  // ---- WiC probe ----
  if (requested.includes('wic') && !done('wic')) {
    if (!opts.wicDir) {
      save<ProbeResult>('wic', { ...base('wic', { wic: 'no --wic folder given' }), analysis: 'wic', status: 'skipped', reason: 'no WiC folder given (--wic DIR, laid out like WiC_dataset: train/train.data.txt, train/train.gold.txt, dev/...)' });
    } else {
      log(opts, `wic: probing ${L + 1} points on ${opts.wicDir}`);
      const r = runWicProbe(model, tokenizer, bos, opts.wicDir, opts.wic);
      save<ProbeResult>('wic', { ...base('wic', r.choices), analysis: 'wic', status: 'done', perPoint: r.perPoint, chance: r.chance, examples: r.examples });
    }
  }

  // ---- general span probe ----
  if (requested.includes('probe') && !done('probe')) {
    if (!opts.probeFile) {
      save<ProbeResult>('probe', { ...base('probe', {}), analysis: 'probe', status: 'skipped', reason: 'no probe file given (--probe FILE.jsonl with lines {"text","start","end","label"})' });
    } else {
      log(opts, `probe: ${opts.probeFile}`);
      const r = runSpanProbe(model, tokenizer, bos, readSpanProbe(opts.probeFile), opts.wic);
      save<ProbeResult>('probe', { ...base('probe', { ...r.choices, file: opts.probeFile, classes: r.classes }), analysis: 'probe', status: 'done', perPoint: r.perPoint, chance: r.chance, examples: r.examples });
    }
  }

  // ---- stage boundaries ----
  if (requested.includes('stages') && !done('stages')) {
    const fromRun = <T>(a: StageAnalysis): T | undefined => {
      const have = (results as Record<string, unknown>)[a];
      if (have) return have as T;
      const p = join(outDir, file(a));
      return existsSync(p) ? readJson<T>(p) : undefined;
    };
    const r = proposeStages(L, {
      localAttention: fromRun('local-attention'), logitLens: fromRun('logit-lens'), neurons: fromRun('neurons'), mlpNorm: fromRun('mlp-norm'), sweepDir: opts.sweepDir,
    });
    save<StageBoundariesResult>('stages', { ...base('stages', r.choices), analysis: 'stages', boundaries: r.boundaries, method: r.method, signalsUsed: r.signalsUsed });
  }

  manifest.finishedAt = new Date().toISOString();
  writeManifest();
  run.finish();
  return { manifest, results, dir: outDir };
}

/** One batch through the model with every streaming analysis's hooks registered together. */
function streamBatch(
  model: Model, batch: Batch, docIndex: number[],
  a: { la?: LocalAttentionAccumulator; ll?: LogitLensAccumulator; mn?: MlpNormAccumulator; ck?: CkaAnalysis; rep?: RepeatAccumulator; repeatDocs: number },
): void {
  const L = model.config.nLayers;
  const docIds = batch.windowIndex.map((w) => docIndex[w]);
  const points: Float32Array[] = new Array(L + 1);
  const hooks: NonNullable<Parameters<typeof forward>[2]>['hooks'] = [];
  if (a.la) hooks.push({ name: 'blocks.*.attn.hook_pattern', fn: (t, ctx) => void a.la!.addPattern(ctx.slot!, t.data, t.shape, docIds) });
  if (a.ll || a.ck) {
    // The residual arrays are fresh per block (the executor never reuses them), so references suffice.
    hooks.push({ name: 'blocks.0.hook_resid_pre', fn: (t) => void (points[0] = t.data) });
    hooks.push({ name: 'blocks.*.hook_resid_post', fn: (t, ctx) => void (points[ctx.slot! + 1] = t.data) });
  }
  if (a.mn) hooks.push({ name: 'blocks.*.hook_mlp_out', fn: (t, ctx) => void a.mn!.addMlpOut(ctx.slot!, t.data, t.shape, docIds) });
  const input = { ids: batch.ids, batch: batch.batch, seq: batch.seq };
  const repRows = a.rep ? docIds.map((d, b) => (d < a.repeatDocs ? b : -1)).filter((b) => b >= 0) : [];
  const res = forward(model, input, { hooks, skipLogits: repRows.length === 0 });
  if (a.ll) a.ll.addBatch(model, points, batch.batch, batch.seq, docIds);
  if (a.ck) a.ck.addBatch(points.slice(1), batch.batch, batch.seq);
  if (a.rep) {
    const rows = repRows;
    if (rows.length > 0) {
      const T = batch.seq, V = model.config.vocabSize;
      const ids = new Int32Array(rows.length * T);
      const logits = new Float32Array(rows.length * T * V);
      rows.forEach((b, i) => {
        ids.set(batch.ids.subarray(b * T, (b + 1) * T), i * T);
        logits.set(res.logits!.data.subarray(b * T * V, (b + 1) * T * V), i * T * V);
      });
      a.rep.addBatch(model, { ids, batch: rows.length, seq: T }, logits, rows.map((b) => docIds[b]));
    }
  }
}
