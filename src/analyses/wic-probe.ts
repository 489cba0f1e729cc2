/**
 * WiC probe (paper spec §5.2a): does the target word mean the same in both sentences? The paper gives no
 * design details; the choices here follow the spec's suggestion and are recorded:
 * - feature per sentence: residual stream at the last sub-token of the target word (the sentence is cut
 *   after the word, BOS prepended; by causality the same state as in the full sentence);
 * - pair feature [|h₁ − h₂|, h₁ ⊙ h₂] (2·D);
 * - L2-regularized logistic regression per point (L+1 points), trained on WiC train (l2 by a validation
 *   split of train), reported on WiC dev; chance 50 % (dev is balanced).
 */
import type { ModelLike } from '../model/executor.js';
import type { TextTokenizer } from '../load/tokenizer.js';
import { readWic, type WicExample } from '../data/wic.js';
import type { ProbeResult } from '../results/schema.js';
import { chanceLevel, DEFAULT_PROBE_GRID, fitProbes, hiddenAtPositions, pairFeatures, prefixTokens, type HiddenOptions, type ProbeFitOptions } from './probes.js';
import type { WholeAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';

export interface WicOptions extends ProbeFitOptions, HiddenOptions {
  /** Use only the first N training / dev pairs (default: all). */
  maxTrain?: number;
  maxDev?: number;
}

export interface WicOutput {
  perPoint: NonNullable<ProbeResult['per_point']>;
  chance: number;
  examples: { train: number; dev: number };
  choices: Record<string, unknown>;
}

export function runWicProbe(model: ModelLike, tok: TextTokenizer, bos: number, dir: string, opts: WicOptions = {}, onProgress?: (stage: string, done: number, total: number) => void): WicOutput {
  const train = readWic(dir, 'train').slice(0, opts.maxTrain);
  const dev = readWic(dir, 'dev').slice(0, opts.maxDev);
  const all: WicExample[] = [...train, ...dev];
  const seqs: number[][] = [], pos: number[] = [];
  for (const e of all) {
    for (const [s, span] of [[e.sentence1, e.charSpan1], [e.sentence2, e.charSpan2]] as const) {
      const p = prefixTokens(tok, bos, s, span[1], model.config.nCtx);
      seqs.push(p.ids);
      pos.push(p.position);
    }
  }
  const hidden = hiddenAtPositions(model, seqs, pos, opts, (d, t) => onProgress?.('forward', d, t));
  const D = model.config.dModel, n = all.length;
  const feats = hidden.map((h) => {
    // Rows alternate sentence 1, sentence 2 of each pair.
    const a = new Float32Array(n * D), b = new Float32Array(n * D);
    for (let i = 0; i < n; i++) {
      a.set(h.subarray(2 * i * D, (2 * i + 1) * D), i * D);
      b.set(h.subarray((2 * i + 1) * D, (2 * i + 2) * D), i * D);
    }
    return pairFeatures(a, b, n, D);
  });
  const yTr = Uint8Array.from(train, (e) => (e.label ? 1 : 0));
  const yDev = Uint8Array.from(dev, (e) => (e.label ? 1 : 0));
  const perPoint = fitProbes(feats, 2 * D, yTr, yDev, opts, (d, t) => onProgress?.('probes', d, t));
  return {
    perPoint,
    chance: chanceLevel(yDev),
    examples: { train: train.length, dev: dev.length },
    choices: {
      data: { dir, train: 'WiC train', report: 'WiC dev', max_train: opts.maxTrain ?? null, max_dev: opts.maxDev ?? null },
      feature: 'residual stream at the last sub-token of the target word in each sentence (sentence cut after the word, BOS prepended; a prefix longer than the context keeps BOS + its last nCtx-1 tokens)',
      pair_feature: '[|h1 - h2|, h1 * h2] (2 * d_model)',
      points: 'L+1: embeddings, then each block output',
      classifier: `L2-regularized logistic regression, standardized features, l2 from grid ${JSON.stringify(opts.grid ?? DEFAULT_PROBE_GRID)} by a stratified 20% validation split of train, refit on all of train; max_iter ${opts.maxIter ?? 200}`,
      chance: 'majority-class rate on dev (0.5 for WiC)',
    },
  };
}

/** The WiC probe (--wic DIR); recorded as skipped without the folder. One job. */
export const wicAnalysis: WholeAnalysis = {
  kind: 'whole', name: 'wic', ...resultFileOf('wic'), figure: 'probe', phase: 2,
  run: (ctx) => {
    const dir = ctx.opts.wicDir;
    if (!dir)
      return { choices: { wic: 'no --wic folder given' }, body: { status: 'skipped', reason: 'no WiC folder given (--wic DIR, laid out like WiC_dataset: train/train.data.txt, train/train.gold.txt, dev/...)' } };
    ctx.log(`wic: probing ${ctx.model.config.nLayers + 1} points on ${dir}`);
    const r = runWicProbe(ctx.model, ctx.tokenizer, ctx.bos, dir, ctx.opts.wic);
    return { choices: r.choices, body: { status: 'done', per_point: r.perPoint, chance: r.chance, examples: r.examples } };
  },
};
