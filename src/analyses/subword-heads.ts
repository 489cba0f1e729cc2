/**
 * Sub-word merging ("subjoiner") heads (paper spec §5.1b, stage 1: detokenization).
 *
 * Dataset (after the authors' notebook, from the user's corpus and the model's tokenizer):
 * - each document is split on whitespace; words are kept when they have no digit, none of
 *   ()[]{}.,;:!?-/\"'`~@#$%^&*_+=|<> and are not all upper-case;
 * - a window is 16 consecutive kept words of context, then a target word that is lowercase ASCII letters;
 *   the text is `context.join(' ') + ' ' + target`, encoded without BOS, with BOS prepended;
 * - the target's token count is the number of trailing tokens whose strings concatenate to ' ' + target;
 * - multi-token class: targets of exactly `multiTokens` (default 4) tokens, sliding windows over the first
 *   `multiDocs` (500) documents, up to `maxExamples` (1000; the paper allows 5000 and got 988). When fewer
 *   than `minExamples` (20) are found, 2–4 tokens are accepted instead (a small vocabulary makes 4 rarer),
 *   and the choice is recorded;
 * - single-token class: one-token targets from the first window of each of the first `singleDocs` (10000)
 *   documents, as the paper; when that gives fewer than the multi class, sliding windows are used too
 *   (recorded); then a seeded subsample to the size of the multi class.
 *
 * Score per head (layer, head): the attention from the word's last sub-token (the last query) to its first
 * sub-token (m − 1 positions back) over multi-token examples, minus the one-token baseline: the attention
 * from the single-token word to the token at the same relative offset (with mixed token counts, the
 * offsets are weighted as they occur in the multi class). Heads are ranked by this difference.
 * Heatmap (Fig. 6b): for the best head, the attention rows from the last query to the last `width` (16)
 * keys of 10 seeded random examples per class.
 */
import { forward } from '../model/forward.js';
import type { ModelLike } from '../model/executor.js';
import type { TextTokenizer } from '../load/tokenizer.js';
import type { SubwordHeadsResult } from '../results/schema.js';
import { shuffled } from './common.js';
import { RunningStats } from '../stats/running-stats.js';
import { statOfValues } from '../stats/stat.js';
import type { WholeAnalysis } from './contract.js';
import { resultFileOf } from '../results/run-files.js';
import { textPieces, TOKENIZE_CHUNK_CHARS } from '../data/chunked-encode.js';

const BAD_CHARS = /[\d()[\]{}.,;:!?\-/\\"'`~@#$%^&*_+=|<>]/;
const CONTEXT_WORDS = 16;

/** Python's str.isupper(): at least one cased character and no lowercase one. */
function isUpper(w: string): boolean {
  return w !== w.toLowerCase() && w === w.toUpperCase();
}

export function keptWords(doc: string): string[] {
  return doc.split(/\s+/).filter((w) => w.length > 0 && !BAD_CHARS.test(w) && !isUpper(w));
}

export interface SubwordExample {
  word: string;
  ids: number[];
  /** Tokens of the target word (1 for the single class). */
  m: number;
}

export interface SubwordDatasetOptions {
  multiTokens?: number;
  minExamples?: number;
  maxExamples?: number;
  multiDocs?: number;
  singleDocs?: number;
  seed?: number;
}

export interface SubwordDataset {
  multi: SubwordExample[];
  single: SubwordExample[];
  multiTokenCounts: number[];
  choices: Record<string, unknown>;
}

/** Number of trailing tokens spelling ' ' + word, or undefined when no token boundary matches. */
function trailingCount(tok: TextTokenizer, ids: number[], word: string): number | undefined {
  const want = ' ' + word;
  let s = '';
  for (let m = 1; m <= ids.length; m++) {
    s = tok.tokenString(ids[ids.length - m]) + s;
    if (s.length >= want.length) return s === want ? m : undefined;
  }
  return undefined;
}

export function buildSubwordDataset(docs: string[], tok: TextTokenizer, bos: number, opts: SubwordDatasetOptions = {}): SubwordDataset {
  const wanted = opts.multiTokens ?? 4;
  const minExamples = opts.minExamples ?? 20;
  const maxExamples = opts.maxExamples ?? 1000;
  const multiDocs = opts.multiDocs ?? 500;
  const singleDocs = opts.singleDocs ?? 10000;
  const seed = opts.seed ?? 0;
  const screen = new Map<string, number | undefined>();
  const screenCount = (w: string): number | undefined => {
    if (!screen.has(w)) screen.set(w, trailingCount(tok, tok.encode('the ' + w), w));
    return screen.get(w);
  };
  const make = (ctx: string[], target: string): SubwordExample | undefined => {
    const ids = tok.encode(ctx.join(' ') + ' ' + target);
    const m = trailingCount(tok, ids, target);
    return m === undefined ? undefined : { word: target, ids: [bos, ...ids], m };
  };
  const isTarget = (w: string) => /^[a-z]+$/.test(w);

  // Multi-token candidates of 2..max(4, wanted) tokens, sliding windows.
  const maxM = Math.max(4, wanted);
  const byCount = new Map<number, SubwordExample[]>();
  // Words come from at most the first TOKENIZE_CHUNK_CHARS of a document (cut where a word starts): a
  // huge one-line document would otherwise cost time and memory in proportion to its length.
  const wordsOf = docs.map((d, i) => (i < Math.max(multiDocs, singleDocs) ? keptWords(textPieces(d).next().value ?? '') : []));
  for (let d = 0; d < Math.min(docs.length, multiDocs); d++) {
    const w = wordsOf[d];
    for (let i = CONTEXT_WORDS; i < w.length; i++) {
      const target = w[i];
      if (!isTarget(target)) continue;
      const guess = screenCount(target);
      if (guess === undefined || guess < 2 || guess > maxM) continue;
      if ((byCount.get(wanted)?.length ?? 0) >= maxExamples) break;
      const ex = make(w.slice(i - CONTEXT_WORDS, i), target);
      if (!ex || ex.m < 2 || ex.m > maxM) continue;
      const list = byCount.get(ex.m) ?? [];
      list.push(ex);
      byCount.set(ex.m, list);
    }
    if ((byCount.get(wanted)?.length ?? 0) >= maxExamples) break;
  }
  let counts = [wanted];
  let multi = byCount.get(wanted) ?? [];
  let fallback = false;
  if (multi.length < minExamples) {
    counts = [2, 3, 4].filter((m) => m <= maxM);
    if (!counts.includes(wanted)) counts.push(wanted);
    counts.sort((a, b) => a - b);
    multi = counts.flatMap((m) => byCount.get(m) ?? []);
    fallback = true;
  }
  multi = shuffled(multi, seed).slice(0, maxExamples);

  // Single-token class: the first window of each document, then sliding windows if too few.
  const single: SubwordExample[] = [];
  const seen = new Set<string>();
  const addSingle = (d: number, i: number) => {
    const w = wordsOf[d];
    const key = `${d}:${i}`;
    if (seen.has(key) || !isTarget(w[i]) || screenCount(w[i]) !== 1) return;
    seen.add(key);
    const ex = make(w.slice(i - CONTEXT_WORDS, i), w[i]);
    if (ex && ex.m === 1) single.push(ex);
  };
  const nSingleDocs = Math.min(docs.length, singleDocs);
  for (let d = 0; d < nSingleDocs; d++) if (wordsOf[d].length > CONTEXT_WORDS) addSingle(d, CONTEXT_WORDS);
  let singleSliding = false;
  if (single.length < multi.length) {
    singleSliding = true;
    for (let d = 0; d < nSingleDocs && single.length < Math.max(multi.length * 3, multi.length + 50); d++)
      for (let i = CONTEXT_WORDS + 1; i < wordsOf[d].length; i++) addSingle(d, i);
  }
  const singleOut = shuffled(single, seed + 1).slice(0, multi.length);
  return {
    multi,
    single: singleOut,
    multiTokenCounts: counts,
    choices: {
      long_documents: `words from the first ${TOKENIZE_CHUNK_CHARS} characters of a document (cut before a word)`,
      word_filter: 'whitespace words without digits or ()[]{}.,;:!?-/\\"\'`~@#$%^&*_+=|<>, not all upper-case',
      window: `${CONTEXT_WORDS} kept context words + a lowercase ASCII target word; BOS prepended`,
      multi_tokens: wanted,
      multi_token_counts: counts,
      multi_fallback: fallback ? `fewer than ${minExamples} targets of exactly ${wanted} tokens: accepted ${counts.join(', ')} tokens` : false,
      multi_source: `sliding windows over the first ${multiDocs} documents, up to ${maxExamples} examples`,
      single_source: `first window of each of the first ${singleDocs} documents${singleSliding ? ', plus sliding windows (too few first windows)' : ''}; seeded subsample to the multi-class size`,
      seed,
    },
  };
}

/**
 * The head the authors drew (casestudies/subjoiner_heads.ipynb indexes `attention_scores[i, 1, 6, -1, :]`:
 * 0-based layer 1, head 6, of Pythia-2.8B-deduped; the paper's label "L2H5" matches neither indexing), by
 * model id (the part after the last '/', lower-case).
 */
export const AUTHORS_SUBWORD_HEADS: Record<string, { layer: number; head: number }> = { 'pythia-2.8b-deduped': { layer: 1, head: 6 } };

/**
 * The authors' head for a model named `name` (a hub id, a folder, or a hub-cache path such as
 * `.../models--EleutherAI--pythia-2.8b-deduped/snapshots/…`) when the model has that head.
 */
export function authorsSubwordHead(name: string | undefined, nLayers: number, nHeads: number): { layer: number; head: number } | undefined {
  const parts = name?.toLowerCase().split(/[\\/]|--/) ?? [];
  const key = Object.keys(AUTHORS_SUBWORD_HEADS).find((k) => parts.includes(k));
  const h = key ? AUTHORS_SUBWORD_HEADS[key] : undefined;
  return h && h.layer < nLayers && h.head < nHeads ? h : undefined;
}

export interface SubwordHeadOptions {
  /** The head of the heatmap (default: the best-scoring head). */
  heatmapHead?: { layer: number; head: number; rule: string };
  /** The rule stated for the best-scoring head (default 'the best-scoring head'). */
  heatmapRule?: string;
  width?: number;
  heatmapSamples?: number;
  maxBatchTokens?: number;
  seed?: number;
}

/** Runs the examples and scores every head. */
export function scoreSubwordHeads(model: ModelLike, tok: TextTokenizer, data: SubwordDataset, opts: SubwordHeadOptions = {}): Omit<SubwordHeadsResult, 'analysis' | 'provenance' | 'layers' | 'choices'> & { choices: Record<string, unknown> } {
  const L = model.config.nLayers, H = model.config.nHeads;
  const width = opts.width ?? 16;
  const nHeat = opts.heatmapSamples ?? 10;
  const seed = opts.seed ?? 0;
  // Offset weights of the one-token baseline: the offsets (m − 1) as they occur in the multi class.
  const offsetWeight = new Map<number, number>();
  for (const e of data.multi) offsetWeight.set(e.m - 1, (offsetWeight.get(e.m - 1) ?? 0) + 1 / data.multi.length);

  const multiStats = Array.from({ length: L * H }, () => new RunningStats());
  const singleStats = Array.from({ length: L * H }, () => new RunningStats());
  const heatPick = (xs: SubwordExample[]) => new Set(shuffled(xs.map((_, i) => i), seed).slice(0, nHeat));
  const heat = { multi: heatPick(data.multi), single: heatPick(data.single) };
  // rows[class][example index] = per (layer, head) the last-query row over the last `width` keys.
  const heatRows = { multi: new Map<number, Float32Array>(), single: new Map<number, Float32Array>() };

  const run = (cls: 'multi' | 'single', xs: SubwordExample[]) => {
    const order = xs.map((_, i) => i).sort((a, b) => xs[a].ids.length - xs[b].ids.length);
    const maxTokens = opts.maxBatchTokens ?? 4096;
    let i = 0;
    while (i < order.length) {
      const rows: number[] = [];
      let T = 0;
      while (i < order.length) {
        const nextT = Math.max(T, xs[order[i]].ids.length);
        if (rows.length > 0 && nextT * (rows.length + 1) > maxTokens) break;
        rows.push(order[i++]);
        T = nextT;
      }
      const ids = new Int32Array(rows.length * T);
      rows.forEach((r, b) => ids.set(xs[r].ids, b * T));
      forward(model, { ids, batch: rows.length, seq: T }, {
        skipLogits: true,
        hooks: [{
          name: 'blocks.*.attn.hook_pattern',
          fn: (t, ctx) => {
            const layer = ctx.slot!;
            rows.forEach((r, b) => {
              const ex = xs[r];
              const q = ex.ids.length - 1;
              for (let h = 0; h < H; h++) {
                const row = ((b * H + h) * T + q) * T;
                let v: number;
                if (cls === 'multi') v = t.data[row + q - (ex.m - 1)];
                else {
                  v = 0;
                  for (const [o, w] of offsetWeight) v += w * (q - o >= 0 ? t.data[row + q - o] : 0);
                }
                (cls === 'multi' ? multiStats : singleStats)[layer * H + h].add(v);
                if (heat[cls].has(r)) {
                  let buf = heatRows[cls].get(r);
                  if (!buf) heatRows[cls].set(r, (buf = new Float32Array(L * H * width)));
                  const w0 = Math.max(0, q + 1 - width);
                  for (let k = w0; k <= q; k++) buf[(layer * H + h) * width + (width - 1 - (q - k))] = t.data[row + k];
                }
              }
            });
          },
        }],
      });
    }
  };
  // A model with a short context sees BOS + the last nCtx − 1 tokens (the target stays at the end).
  const maxLen = model.config.nCtx;
  let truncated = 0;
  const fit = (xs: SubwordExample[]) => xs.map((e) => {
    if (e.ids.length <= maxLen) return e;
    truncated++;
    return { ...e, ids: [e.ids[0], ...e.ids.slice(e.ids.length - (maxLen - 1))] };
  });
  const multiRun = fit(data.multi), singleRun = fit(data.single);
  run('multi', multiRun);
  run('single', singleRun);

  const heads = [];
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++) {
      const m = multiStats[l * H + h], s = singleStats[l * H + h];
      const score = (Number.isFinite(m.mean) ? m.mean : 0) - (Number.isFinite(s.mean) ? s.mean : 0);
      heads.push({ layer: l, head: h, score, multi: statOfValues(m), single: statOfValues(s) });
    }
  heads.sort((a, b) => b.score - a.score);
  const top = heads[0] ?? { layer: 0, head: 0 };
  const best = opts.heatmapHead ?? { layer: top.layer, head: top.head, rule: opts.heatmapRule ?? 'the best-scoring head' };
  const heatOf = (cls: 'multi' | 'single', xs: SubwordExample[]) =>
    [...heat[cls]].sort((a, b) => a - b).map((i) => {
      const ex = xs[i];
      const buf = heatRows[cls].get(i);
      const tail = ex.ids.slice(Math.max(0, ex.ids.length - width));
      const tokens = [...Array(width - tail.length).fill(''), ...tail.map((id) => tok.tokenString(id))];
      const o = (best.layer * H + best.head) * width;
      return { word: ex.word, tokens, attention: buf ? Array.from(buf.subarray(o, o + width)) : [] };
    });
  const maxM = data.multiTokenCounts[data.multiTokenCounts.length - 1] ?? 0;
  return {
    examples: { multi: data.multi.length, single: data.single.length, multi_tokens: maxM },
    heads,
    heatmap: { layer: best.layer, head: best.head, width, rule: best.rule, multi: heatOf('multi', multiRun), single: heatOf('single', singleRun) },
    choices: {
      ...data.choices,
      score: 'mean attention from the last sub-token to the first sub-token (multi) minus the one-token baseline (attention from the single-token word to the token at the same relative offset; mixed counts weighted as in the multi class)',
      ranking: 'by score, descending; heads indexed (layer, head), 0-based',
      heatmap: `${best.rule}; attention from the last query to the last ${width} keys (left-padded with 0 for shorter inputs); ${nHeat} seeded random examples per class`,
      error_bars: 'std and sem over examples',
      truncated: truncated > 0 ? `${truncated} examples longer than the ${maxLen}-token context kept BOS + their last ${maxLen - 1} tokens` : 0,
    },
  };
}

/** Sub-word merging heads: builds its own examples from the corpus, one job. */
export const subwordHeadsAnalysis: WholeAnalysis = {
  kind: 'whole', name: 'subword-heads', ...resultFileOf('subword-heads'), figure: 'subword-heads', phase: 2,
  run: (ctx) => {
    ctx.log('subword-heads: building the one-token / multi-token word dataset');
    const dataset = buildSubwordDataset(ctx.corpus.docs, ctx.tokenizer, ctx.bos, ctx.opts.subword);
    ctx.log(`subword-heads: ${dataset.multi.length} multi-token (${dataset.multiTokenCounts.join('/')} tokens) and ${dataset.single.length} one-token examples`);
    const c = ctx.model.config;
    const authors = ctx.opts.protocol === 'paper' ? authorsSubwordHead(ctx.model.source.modelId ?? ctx.model.source.dir, c.nLayers, c.nHeads) : undefined;
    const heatmapHead = authors
      ? { ...authors, rule: `the authors' head (layer ${authors.layer}, head ${authors.head}, 0-based: subjoiner_heads.ipynb's attention_scores[i, ${authors.layer}, ${authors.head}, -1, :] for this model; the paper labels it L2H5)` }
      : undefined;
    const heatmapRule = ctx.opts.protocol === 'paper' ? `the best-scoring head (the authors' head applies to ${Object.keys(AUTHORS_SUBWORD_HEADS).join(', ')} only)` : undefined;
    const r = scoreSubwordHeads(ctx.model, ctx.tokenizer, dataset, { ...ctx.opts.subword, heatmapHead, heatmapRule });
    return { choices: { ...r.choices, multi_token_counts: dataset.multiTokenCounts }, body: { examples: r.examples, heads: r.heads, heatmap: r.heatmap } };
  },
};
