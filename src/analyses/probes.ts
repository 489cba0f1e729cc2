/**
 * Linear probes on hidden states (paper spec §5.2a, stage 2: feature engineering), per residual point
 * (L+1 points like the logit lens: 0 = embeddings, i = after block i−1).
 *
 * - `hiddenAtPositions` runs token sequences of different lengths and returns, for each point, the
 *   residual stream at one chosen position per sequence. Sequences are right-padded to the longest of
 *   their batch: the models are causal, so tokens after a position never change its state (learned
 *   positions and RoPE depend only on the absolute position), and no attention mask is needed.
 * - `fitProbes` trains an L2-regularized logistic regression per point (l2 chosen on a stratified 20 %
 *   validation split of the training set, then refit on all of it; features standardized) and reports
 *   training and held-out accuracy.
 * - `runSpanProbe` is the general form: JSONL lines {"text", "start", "end", "label"[, "split"]}; the feature
 *   is the hidden state at the last sub-token of text[start, end) (the text is cut after `end`, which by
 *   causality gives the same state as the full text whenever the cut text tokenizes the same up to there).
 */
import { readFileSync } from 'node:fs';
import { forward } from '../model/forward.js';
import type { ModelLike } from '../model/executor.js';
import type { TextTokenizer } from '../load/tokenizer.js';
import type { ProbeResult } from '../results/schema.js';
import { LayerlabError } from '../util/errors.js';
import { shuffled } from './common.js';
import { accuracy, selectL2ByValidation } from './math/logistic.js';
import type { WholeAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';

export interface HiddenOptions {
  /** Most tokens per forward batch (rows × padded length); default 8192. */
  maxBatchTokens?: number;
  /** Token used to pad (never read); default 0. */
  padId?: number;
}

/**
 * For each point i = 0..L, a [n, D] matrix: row j = residual stream at position `positions[j]` of
 * `seqs[j]`. `onProgress(done, total)` after each batch.
 */
export function hiddenAtPositions(model: ModelLike, seqs: number[][], positions: number[], opts: HiddenOptions = {}, onProgress?: (done: number, total: number) => void): Float32Array[] {
  const L = model.config.nLayers, D = model.config.dModel, n = seqs.length;
  const out = Array.from({ length: L + 1 }, () => new Float32Array(n * D));
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length);
  const maxTokens = opts.maxBatchTokens ?? 8192;
  const pad = opts.padId ?? 0;
  let i = 0;
  while (i < n) {
    const rows: number[] = [];
    let T = 0;
    while (i < n) {
      const len = seqs[order[i]].length;
      const nextT = Math.max(T, len);
      if (rows.length > 0 && nextT * (rows.length + 1) > maxTokens) break;
      if (len > model.config.nCtx && model.config.positional === 'learned') throw new LayerlabError(`a probe input has ${len} tokens, more than the model's ${model.config.nCtx} positions`);
      rows.push(order[i++]);
      T = nextT;
    }
    const ids = new Int32Array(rows.length * T).fill(pad);
    rows.forEach((r, b) => ids.set(seqs[r], b * T));
    const grab = (point: number) => (t: { data: Float32Array }) => {
      rows.forEach((r, b) => {
        const o = (b * T + positions[r]) * D;
        out[point].set(t.data.subarray(o, o + D), r * D);
      });
    };
    forward(model, { ids, batch: rows.length, seq: T }, {
      skipLogits: true,
      hooks: [
        { name: 'blocks.0.hook_resid_pre', fn: (t, ctx) => (ctx.slot === 0 ? grab(0)(t) : undefined) },
        { name: 'blocks.*.hook_resid_post', fn: (t, ctx) => grab(ctx.slot! + 1)(t) },
      ],
    });
    onProgress?.(i, n);
  }
  return out;
}

/** [|a − b|, a ⊙ b] per row: the WiC pair feature. */
export function pairFeatures(a: Float32Array, b: Float32Array, n: number, D: number): Float32Array {
  const out = new Float32Array(n * 2 * D);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < D; j++) {
      const x = a[r * D + j], y = b[r * D + j];
      out[r * 2 * D + j] = Math.abs(x - y);
      out[r * 2 * D + D + j] = x * y;
    }
  return out;
}

export interface ProbeFitOptions {
  grid?: number[];
  maxIter?: number;
}

export const DEFAULT_PROBE_GRID = [1e-3, 1e-2, 1e-1, 1];

/** One logistic probe per point; features[i] is [nTrain + nDev, d] with the training rows first. */
export function fitProbes(
  features: Float32Array[], d: number, yTrain: Uint8Array, yDev: Uint8Array, opts: ProbeFitOptions = {}, onPoint?: (done: number, total: number) => void,
): NonNullable<ProbeResult['per_point']> {
  const nTr = yTrain.length, nDev = yDev.length, L = features.length - 1;
  return features.map((X, point) => {
    const Xtr = X.subarray(0, nTr * d), Xdev = X.subarray(nTr * d, (nTr + nDev) * d);
    const sel = selectL2ByValidation(Xtr, nTr, d, yTrain, { grid: opts.grid ?? DEFAULT_PROBE_GRID, maxIter: opts.maxIter ?? 200 });
    const res = {
      point,
      relative_depth: L > 0 ? point / L : 0,
      train_accuracy: accuracy(sel.model, Xtr, nTr, d, yTrain),
      dev_accuracy: nDev > 0 ? accuracy(sel.model, Xdev, nDev, d, yDev) : NaN,
      l2: sel.l2,
    };
    onPoint?.(point + 1, features.length);
    return res;
  });
}

/** Majority-class rate of the held-out labels. */
export function chanceLevel(y: Uint8Array): number {
  let pos = 0;
  for (const v of y) pos += v;
  return y.length === 0 ? NaN : Math.max(pos, y.length - pos) / y.length;
}

/**
 * [BOS] + tokens of text[0, end); position = its last token. A prefix longer than `maxLen` keeps BOS and
 * its last maxLen − 1 tokens (only models with short contexts ever need this).
 */
export function prefixTokens(tok: TextTokenizer, bos: number, text: string, end: number, maxLen = Infinity): { ids: number[]; position: number } {
  let body = tok.encode(text.slice(0, end));
  if (body.length + 1 > maxLen) body = body.slice(body.length - (maxLen - 1));
  const ids = [bos, ...body];
  return { ids, position: ids.length - 1 };
}

export interface SpanExample {
  text: string;
  start: number;
  end: number;
  label: string;
  split?: 'train' | 'dev';
}

/** Reads the general probe's JSONL file. */
export function readSpanProbe(path: string): SpanExample[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LayerlabError(`cannot read probe file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  const out: SpanExample[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new LayerlabError(`line ${i + 1} is not valid JSON (${(e as Error).message})`, path);
    }
    const { text: t, start, end, label, split } = o ?? {};
    if (typeof t !== 'string') throw new LayerlabError(`line ${i + 1}: "text" must be a string`, path);
    if (!Number.isInteger(start) || !Number.isInteger(end) || (start as number) < 0 || (end as number) <= (start as number) || (end as number) > t.length)
      throw new LayerlabError(`line ${i + 1}: need integer "start" < "end" <= text length (${t.length})`, path);
    if (label === undefined || label === null || typeof label === 'object') throw new LayerlabError(`line ${i + 1}: "label" must be a string, number or boolean`, path);
    if (split !== undefined && split !== 'train' && split !== 'dev' && split !== 'test') throw new LayerlabError(`line ${i + 1}: "split" must be train, dev or test`, path);
    out.push({ text: t, start: start as number, end: end as number, label: String(label), split: split === undefined ? undefined : split === 'train' ? 'train' : 'dev' });
  });
  if (out.length === 0) throw new LayerlabError('probe file has no examples', path);
  return out;
}

export interface SpanProbeOutput {
  perPoint: NonNullable<ProbeResult['per_point']>;
  chance: number;
  examples: { train: number; dev: number };
  classes: string[];
  choices: Record<string, unknown>;
}

/** The general probe: binary labels over spans; split from the file or a stratified 80/20 split (seed 0). */
export function runSpanProbe(model: ModelLike, tok: TextTokenizer, bos: number, examples: SpanExample[], opts: ProbeFitOptions & HiddenOptions = {}): SpanProbeOutput {
  const classes = [...new Set(examples.map((e) => e.label))].sort();
  if (classes.length !== 2) throw new LayerlabError(`the probe needs exactly two labels, found ${classes.length} (${classes.slice(0, 5).join(', ')})`);
  const hasSplit = examples.some((e) => e.split !== undefined);
  let train: SpanExample[], dev: SpanExample[];
  if (hasSplit) {
    train = examples.filter((e) => e.split === 'train');
    dev = examples.filter((e) => e.split !== 'train');
  } else {
    train = [];
    dev = [];
    for (const c of classes) {
      const of = shuffled(examples.filter((e) => e.label === c), 0);
      const nDev = Math.round(of.length * 0.2);
      dev.push(...of.slice(0, nDev));
      train.push(...of.slice(nDev));
    }
  }
  const all = [...train, ...dev];
  const y = (xs: SpanExample[]) => Uint8Array.from(xs, (e) => (e.label === classes[1] ? 1 : 0));
  const yTr = y(train);
  if (yTr.every((v) => v === yTr[0])) throw new LayerlabError('the probe training split holds only one label');
  const pre = all.map((e) => prefixTokens(tok, bos, e.text, e.end, model.config.nCtx));
  const feats = hiddenAtPositions(model, pre.map((p) => p.ids), pre.map((p) => p.position), opts);
  const perPoint = fitProbes(feats, model.config.dModel, yTr, y(dev), opts);
  return {
    perPoint,
    chance: chanceLevel(y(dev)),
    examples: { train: train.length, dev: dev.length },
    classes,
    choices: {
      feature: 'residual stream at the last sub-token of text[start, end) (text cut after end; BOS prepended; longer than the context: BOS + the last nCtx-1 tokens)',
      points: 'L+1: embeddings, then each block output',
      classifier: `L2-regularized logistic regression, standardized features, l2 from grid ${JSON.stringify(opts.grid ?? DEFAULT_PROBE_GRID)} by a stratified 20% validation split of train, refit on all of train`,
      split: hasSplit ? 'from the file ("split": train vs dev/test)' : 'stratified 80/20 (seeded shuffle, seed 0)',
      positive_class: classes[1],
    },
  };
}

/** The general span probe (--probe FILE); recorded as skipped without it. One job. */
export const spanProbeAnalysis: WholeAnalysis = {
  kind: 'whole', name: 'probe', ...resultFileOf('probe'), figure: 'probe', phase: 2,
  run: (ctx) => {
    const file = ctx.opts.probeFile;
    if (!file) return { choices: {}, body: { status: 'skipped', reason: 'no probe file given (--probe FILE.jsonl with lines {"text","start","end","label"})' } };
    ctx.log(`probe: ${file}`);
    const r = runSpanProbe(ctx.model, ctx.tokenizer, ctx.bos, readSpanProbe(file), ctx.opts.wic);
    return { choices: { ...r.choices, file, classes: r.classes }, body: { status: 'done', per_point: r.perPoint, chance: r.chance, examples: r.examples } };
  },
};
