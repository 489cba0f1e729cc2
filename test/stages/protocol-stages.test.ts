/**
 * `--protocol paper` vs `layerlab` in the stage analyses (issue 14 part 1b): for every choice, a tiny
 * fixture where the two protocols give different numbers, each checked against values computed here by
 * hand or by a direct formula (never by the code under test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelDir, type Model } from '../../src/model/model.js';
import { forward } from '../../src/model/forward.js';
import type { StageContext, StagesOptions } from '../../src/analyses/contract.js';
import { ANALYSES, analysesFor, analysisNamed } from '../../src/analyses/registry.js';
import { DocMeans } from '../../src/stats/doc-means.js';
import { LocalAttentionAccumulator, localAttentionAnalysis, paperAttentionCorpus, paperAttentionTokens } from '../../src/analyses/local-attention.js';
import { INNER_POSITIONS, LogitLensAccumulator, logitLensAnalysis, paperLensCorpus } from '../../src/analyses/logit-lens.js';
import { CkaAnalysis, ckaOptionsFor } from '../../src/analyses/cka-analysis.js';
import { paperRepeatCorpus, RepeatAccumulator, specialTokensAround } from '../../src/analyses/layer-repeat.js';
import { authorsSubwordHead, scoreSubwordHeads, type SubwordDataset } from '../../src/analyses/subword-heads.js';
import { runStages } from '../../src/runs/stages.js';
import type { TextTokenizer } from '../../src/load/tokenizer.js';
import { openGolden } from '../helpers/golden.js';
import { JsBackend } from '../../src/backend/index.js';
import { charTokenizer, syntheticCorpus, tempDir } from './helpers.js';

const close = (a: number | null, b: number, tol = 1e-9, what = '') => assert.ok(a !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** A stage context for the input builders (only what they read). */
function ctxOf(model: Pick<Model, 'config'> & Partial<Model>, docs: string[], tokenizer: TextTokenizer, opts: StagesOptions = {}): StageContext {
  return { model: model as Model, tokenizer, bos: 1, corpus: { docs, format: 'text', sha256: 'x', bytes: 0 }, opts, results: {}, log: () => {} };
}

/** [H, T, T] pattern of one head from a rule (rows normalized). */
function pattern(T: number, rule: (q: number, k: number) => number): Float32Array {
  const A = new Float32Array(T * T);
  for (let q = 0; q < T; q++) {
    let s = 0;
    for (let k = 0; k <= q; k++) s += rule(q, k);
    for (let k = 0; k <= q; k++) A[q * T + k] = rule(q, k) / s;
  }
  return A;
}
const prevToken = (q: number, k: number) => (q === 0 || k === q - 1 ? 1 : 0);
const uniform = () => 1;

test('local attention: the authors\' per-offset mean per document vs layerlab\'s totals, by hand', () => {
  // doc 0: a 4-token previous-token window and a 3-token uniform window; doc 1: a 3-token previous-token window.
  const acc = new LocalAttentionAccumulator(1, { windows: [1, 2] });
  acc.addPattern(0, pattern(4, prevToken), [1, 1, 4, 4], [0]);
  acc.addPattern(0, pattern(3, uniform), [1, 1, 3, 3], [0]);
  acc.addPattern(0, pattern(3, prevToken), [1, 1, 3, 3], [1]);
  const r = acc.perLayer()[0];
  // Entries A[q, q-1], A[q, q-2]: window A: offset 1 -> 1, 1, 1; offset 2 -> 0, 0 (sum 3 of 5).
  // Window B (uniform): offset 1 -> 1/2, 1/3; offset 2 -> 1/3 (sum 7/6 of 3). Doc 0 = (3 + 7/6) / 8 = 25/48
  // (per window it would be (3/5 + 7/18)/2). Doc 1: 1, 1, 0 -> 2/3. Mean over documents 57/96.
  const d0 = 25 / 48, d1 = 2 / 3;
  close(r.mean_entry!['2'].mean, (d0 + d1) / 2, 1e-7, 'mean entry k=2');
  close(r.mean_entry!['2'].std, Math.abs(d0 - d1) / Math.SQRT2, 1e-7, 'std over documents');
  assert.equal(r.mean_entry!['2'].docs, 2);
  // Previous 5: window A also has offset 3 (A[3,0] = 0): doc 0 = (3 + 7/6) / 9 = 25/54.
  close(r.prev5.mean, (25 / 54 + 2 / 3) / 2, 1e-7, 'prev5 per document');
  // Totals S_2(q), pooled over queries: A 1, 1, 1; B 1/2, 2/3; C 1, 1 -> (37/6) / 7.
  close(r.windows['2'].mean, 37 / 42, 1e-7, 'total k=2');
  // k = 1: totals and per-entry means are the same quantity (one offset) but pooled differently.
  close(r.windows['1'].mean, (3 + 1 / 2 + 1 / 3 + 2) / 7, 1e-7, 'total k=1');
  close(r.mean_entry!['1'].mean, ((3 + 5 / 6) / 5 + 1) / 2, 1e-7, 'mean entry k=1');
});

test('local attention: the result names the metric its protocol draws; the paper protocol reads the notebook\'s corpus', () => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const tok = charTokenizer(model.config.vocabSize);
  for (const [protocol, shown] of [['layerlab', 'total'], ['paper', 'mean_entry']] as const) {
    const ctx = ctxOf(model, ['a b'], tok, { protocol });
    const acc = localAttentionAnalysis.init(ctx);
    acc.addPattern(0, pattern(3, prevToken), [1, 1, 3, 3], [0]);
    assert.equal(localAttentionAnalysis.result(acc, ctx).body.shown, shown);
  }
  const paper = analysesFor('paper').find((a) => a.name === 'local-attention')!;
  assert.equal(paper.kind, 'whole');
  assert.equal(analysesFor('layerlab').find((a) => a.name === 'local-attention')!.kind, 'streaming');
  // The notebook: GPT-2 cut at 500 tokens (BOS included), other families at their context.
  assert.equal(paperAttentionTokens({ family: 'gpt2', nCtx: 1024 }), 500);
  assert.equal(paperAttentionTokens({ family: 'gpt_neox', nCtx: 2048 }), 2048);
  assert.equal(paperAttentionTokens({ family: 'gpt2', nCtx: 64 }), 64);
  const docs = Array.from({ length: 120 }, () => Array(700).fill('a').join(' '));
  const gpt = paperAttentionCorpus(ctxOf({ config: { ...model.config, family: 'gpt2', nCtx: 1024 } }, docs, tok));
  assert.equal(gpt.windows.length, 100);
  assert.deepEqual(gpt.docIndex, Array.from({ length: 100 }, (_, i) => i));
  assert.ok(gpt.windows.every((w) => w.length === 500 && w[0] === 1));
  const neox = paperAttentionCorpus(ctxOf({ config: { ...model.config, family: 'gpt_neox', nCtx: 2048 } }, docs, tok, { maxDocs: 7 }));
  assert.equal(neox.windows.length, 7);
  assert.ok(neox.windows.every((w) => w.length === 701));
});

test('local attention through runStages on golden gpt2: paper = the notebook\'s per-document mean entry over its own inputs', async (t) => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const tok = charTokenizer(model.config.vocabSize);
  const corpus = syntheticCorpus(12, 40);
  const T = model.config.nCtx; // 64 < 500: the whole context
  const run = (protocol: 'paper' | 'layerlab') =>
    runStages({ model, tokenizer: tok, bos: 1, corpus, dataFile: 'synthetic', outDir: tempDir(t) }, { protocol, analyses: ['local-attention'], seqLen: 24, progress: false });
  const paper = (await run('paper')).results['local-attention']!;
  const layerlab = (await run('layerlab')).results['local-attention']!;
  assert.equal(paper.shown, 'mean_entry');
  assert.equal(layerlab.shown, 'total');
  // Independently: each document alone, [BOS] + its first T-1 tokens, np.diag-style entries of offsets 1..k.
  const L = model.config.nLayers, H = model.config.nHeads;
  const perDoc: number[][][] = corpus.docs.map((doc) => {
    const ids = [1, ...tok.encode(doc).slice(0, T - 1)];
    const n = ids.length;
    const res = forward(model, [ids], { cache: ['blocks.*.attn.hook_pattern'], skipLogits: true });
    return Array.from({ length: L }, (_, l) => {
      const A = res.cache.get(`blocks.${l}.attn.hook_pattern`)!.data;
      return [1, 2, 4, 8, 16].map((k) => {
        let s = 0, c = 0;
        for (let h = 0; h < H; h++) for (let i = 1; i <= k; i++) for (let q = i; q < n; q++) {
          s += A[(h * n + q) * n + q - i];
          c++;
        }
        return s / c;
      });
    });
  });
  for (let l = 0; l < L; l++)
    [1, 2, 4, 8, 16].forEach((k, w) => {
      const want = perDoc.reduce((s, d) => s + d[l][w], 0) / perDoc.length;
      close(paper.per_layer[l].mean_entry![String(k)].mean, want, 1e-5, `layer ${l} k=${k}`);
      assert.equal(paper.per_layer[l].mean_entry![String(k)].docs, 12);
    });
  // The figure values differ between the protocols (total vs per-entry mean, and corpora).
  assert.ok(Math.abs(paper.per_layer[0].mean_entry!['4'].mean! - layerlab.per_layer[0].windows['4'].mean!) > 0.05);
  assert.match(JSON.stringify(paper.choices), /attention_prev5\.ipynb/);
});

/** Entropy (bits; of q, probabilities clamped at `floor` when given) and KL(p || q) (nats) of two logit rows, in float64. */
function entropyKl(p: ArrayLike<number>, q: ArrayLike<number>, floor?: number): { hBits: number; klNats: number } {
  const logSoftmax = (x: ArrayLike<number>) => {
    let m = -Infinity;
    for (let i = 0; i < x.length; i++) m = Math.max(m, x[i]);
    let s = 0;
    for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
    return Array.from(x, (v) => v - m - Math.log(s));
  };
  const lp = logSoftmax(p), lq = logSoftmax(q);
  let h = 0, kl = 0;
  for (let i = 0; i < lp.length; i++) {
    const pq = floor === undefined ? Math.exp(lq[i]) : Math.max(floor, Math.exp(lq[i]));
    h -= pq * Math.log(pq);
    kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  }
  return { hBits: h / Math.LN2, klNats: kl };
}

test('logit lens on golden phi: paper = no b_U, positions 1..T-2, per-document means, KL in nats; layerlab = b_U, after BOS, pooled, bits', () => {
  const g = openGolden('phi');
  const model = loadModelDir(g.dir);
  const bU = model.params.b_U!;
  assert.ok(bU && bU.some((v) => Math.abs(v) > 1e-3), 'phi has an unembedding bias');
  const { batch: B, seq_len: T } = g.expected;
  const L = model.config.nLayers, V = model.config.vocabSize;
  const res = forward(model, g.expected.input_ids, { cache: ['blocks.0.hook_resid_pre', 'blocks.*.hook_resid_post'] });
  const points = [res.cache.get('blocks.0.hook_resid_pre')!.data, ...Array.from({ length: L }, (_, l) => res.cache.get(`blocks.${l}.hook_resid_post`)!.data)];
  const paper = new LogitLensAccumulator(L + 1, { unembedBias: false, klUnit: 'nats', perDocument: true, entropyFloor: 1e-9 });
  paper.addBatch(model, points, B, T, [0, 1], INNER_POSITIONS);
  const layerlab = new LogitLensAccumulator(L + 1);
  layerlab.addBatch(model, points, B, T, [0, 1]);
  assert.equal(paper.klUnit, 'nats');
  // Reference: the golden lens logits (float64 reference, bias included), with and without b_U.
  const ref = g.tensors.readF32('logit_lens_logits');
  const row = (i: number, b: number, t: number, bias: boolean) => Array.from(ref.subarray(((i * B + b) * T + t) * V, ((i * B + b) * T + t + 1) * V), (x, v) => (bias ? x : x - bU[v]));
  const pp = paper.perPoint(), lp = layerlab.perPoint();
  for (let i = 0; i < L; i++) {
    const docH: number[] = [], docKl: number[] = [];
    let pooledH = 0, pooledKl = 0;
    for (let b = 0; b < B; b++) {
      let h = 0, kl = 0;
      for (let t = 1; t <= T - 2; t++) {
        const e = entropyKl(row(L, b, t, false), row(i, b, t, false), 1e-9);
        h += e.hBits;
        kl += e.klNats;
      }
      docH.push(h / (T - 2));
      docKl.push(kl / (T - 2));
      for (let t = 1; t < T; t++) {
        const e = entropyKl(row(L, b, t, true), row(i, b, t, true));
        pooledH += e.hBits;
        pooledKl += e.klNats / Math.LN2;
      }
    }
    close(pp[i].entropy_bits.mean, (docH[0] + docH[1]) / 2, 1e-4, `paper entropy point ${i}`);
    close(pp[i].entropy_bits.std, Math.abs(docH[0] - docH[1]) / Math.SQRT2, 1e-4, `paper entropy std point ${i}`);
    close(pp[i].kl!.mean, (docKl[0] + docKl[1]) / 2, 1e-4, `paper KL nats point ${i}`);
    close(pp[i].kl_bits.mean, (docKl[0] + docKl[1]) / 2 / Math.LN2, 1e-4, `paper KL bits point ${i}`);
    close(lp[i].entropy_bits.mean, pooledH / (B * (T - 1)), 1e-4, `layerlab entropy point ${i}`);
    close(lp[i].kl!.mean, pooledKl / (B * (T - 1)), 1e-4, `layerlab KL bits point ${i}`);
    assert.equal(lp[i].kl!.mean, lp[i].kl_bits.mean);
    assert.ok(Math.abs(pp[i].kl!.mean! - lp[i].kl!.mean!) > 1e-3, `point ${i}: the protocols differ`);
  }
  assert.equal(pp[0].entropy_bits.n, 2);
  assert.equal(lp[0].entropy_bits.n, B * (T - 1));
  const ctx = ctxOf(model, [], charTokenizer(V), { protocol: 'paper' });
  const out = logitLensAnalysis.result(paper, ctx);
  assert.equal(out.body.kl_unit, 'nats');
  assert.match(String(out.choices.normalization), /unreleased/);
  assert.match(String(out.choices.unembed_bias), /excluded/);
});

test('logit lens, paper corpus: the first 500 characters (code points) of the first 10 documents, BOS prepended', () => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const seen: string[] = [];
  const base = charTokenizer(model.config.vocabSize);
  const tok: TextTokenizer = { ...base, encode: (s) => (seen.push(s), base.encode(s)) };
  // '😀' is one code point but two UTF-16 units: Python's text[:500] keeps 500 code points.
  const long = '😀' + 'b'.repeat(600);
  const docs = [long, ...Array.from({ length: 13 }, (_, i) => `doc ${i}`)];
  const c = paperLensCorpus(ctxOf(model, docs, tok));
  assert.equal(c.windows.length, 10);
  assert.equal(seen[0], '😀' + 'b'.repeat(499));
  assert.equal(seen[1], 'doc 0');
  assert.ok(c.windows.every((w) => w[0] === 1));
  // Cut at the model's context (64): BOS + 63 tokens.
  assert.equal(c.windows[0].length, model.config.nCtx);
  assert.equal(analysesFor('paper').find((a) => a.name === 'logit-lens')!.kind, 'whole');
});

/** Unbiased HSIC of two zero-diagonal Grams (Nguyen et al. 2020, eq. 3), written out. */
function hsic(K: number[][], Lm: number[][]): number {
  const n = K.length;
  let tr = 0, sK = 0, sL = 0, kl1 = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    tr += K[i][j] * Lm[j][i];
    sK += K[i][j];
    sL += Lm[i][j];
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) kl1 += K[i][j] * Lm[j][k];
  return (tr + (sK * sL) / ((n - 1) * (n - 2)) - (2 * kl1) / (n - 2)) / (n * (n - 3));
}
const gram = (X: number[][]) => X.map((a, i) => X.map((b, j) => (i === j ? 0 : a.reduce((s, v, k) => s + v * b[k], 0))));

test('CKA all tokens: paper = BOS included and residual rows centred; layerlab = BOS excluded, raw (hand formula)', () => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const T = 7, D = 3;
  // Two layers; rows carry large, varying offsets, which centring removes.
  const X0 = Array.from({ length: T }, (_, t) => [Math.sin(t) + 5 + t, Math.cos(2 * t) + 5 + t, t * 0.3 + 5 + t]);
  const X1 = Array.from({ length: T }, (_, t) => [Math.sin(t) * 2 - t * t * 0.2, (t % 3) - t * t * 0.2, Math.cos(t) - t * t * 0.2]);
  const flat = (X: number[][]) => Float32Array.from(X.flat());
  const cka = (A: number[][], Bm: number[][]) => {
    const K = gram(A), Lm = gram(Bm);
    return hsic(K, Lm) / Math.sqrt(hsic(K, K) * hsic(Lm, Lm));
  };
  const center = (X: number[][]) => X.map((r) => r.map((v) => v - r.reduce((s, x) => s + x, 0) / r.length));
  const run = (protocol: 'paper' | 'layerlab') => {
    const opts = ckaOptionsFor({ opts: { protocol, cka: { lastToken: false } }, model });
    const c = new CkaAnalysis(2, D, model.backend, opts);
    c.addBatch([flat(X0), flat(X1)], 1, T);
    return c.finish().all_tokens!.matrix[0][1]!;
  };
  const fX0 = X0.map((r) => r.map(Math.fround)), fX1 = X1.map((r) => r.map(Math.fround));
  const wantPaper = cka(center(fX0), center(fX1));
  const wantLayerlab = cka(fX0.slice(1), fX1.slice(1));
  close(run('paper'), wantPaper, 1e-4, 'paper');
  close(run('layerlab'), wantLayerlab, 1e-4, 'layerlab');
  assert.ok(Math.abs(wantPaper - wantLayerlab) > 0.05, `${wantPaper} vs ${wantLayerlab}`);
  // TransformerLens centres writing weights of LayerNorm models only; explicit options win.
  const llama = loadModelDir(openGolden('llama').dir);
  assert.equal(ckaOptionsFor({ opts: { protocol: 'paper' }, model: llama }).allTokensCentered, false);
  assert.equal(ckaOptionsFor({ opts: { protocol: 'paper', cka: { allTokensIncludeBos: false } }, model }).allTokensIncludeBos, false);
  assert.deepEqual(ckaOptionsFor({ opts: { protocol: 'layerlab' }, model }), {});
});

test('layer repeat: paper inputs are the HF tokenizer\'s (no BOS unless it adds one, 512 tokens) and entropy counts every position', () => {
  const g = openGolden('gpt2');
  const model = loadModelDir(g.dir);
  const tok = charTokenizer(model.config.vocabSize);
  assert.deepEqual(specialTokensAround(tok), { head: [], tail: [] });
  const withBos: TextTokenizer = { ...tok, encodeWithSpecialTokens: (s) => [1, ...tok.encode(s)] };
  assert.deepEqual(specialTokensAround(withBos), { head: [1], tail: [] });
  const docs = Array.from({ length: 14 }, (_, d) => Array(800).fill(String.fromCharCode(97 + (d % 5))).join(' '));
  const big = { config: { ...model.config, nCtx: 2048 } };
  const plain = paperRepeatCorpus(ctxOf(big, docs, tok));
  assert.equal(plain.windows.length, 10);
  assert.ok(plain.windows.every((w, d) => w.length === 512 && w[0] === tok.encode(docs[d])[0]), 'no BOS, 512 tokens');
  const bos = paperRepeatCorpus(ctxOf(big, docs, withBos, { repeatDocs: 3 }));
  assert.equal(bos.windows.length, 3);
  assert.ok(bos.windows.every((w, d) => w.length === 512 && w[0] === 1 && w[1] === tok.encode(docs[d])[0]), "the tokenizer's BOS + 511 tokens");

  // Entropy at every position (paper) vs after BOS (layerlab), from the golden logits by direct formula.
  const { batch: B, seq_len: T } = g.expected;
  const V = model.config.vocabSize;
  const logits = g.tensors.readF32('logits_baseline');
  const ids = { ids: Int32Array.from(g.expected.input_ids.flat()), batch: B, seq: T };
  const paper = new RepeatAccumulator(model.config.nLayers, [], 0);
  const layerlab = new RepeatAccumulator(model.config.nLayers, [], 1);
  paper.addBatch(model, ids, logits, [0, 1]);
  layerlab.addBatch(model, ids, logits, [0, 1]);
  let all = 0, after = 0;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    const x = Array.from(logits.subarray((b * T + t) * V, (b * T + t + 1) * V));
    const h = entropyKl(x, x).hBits;
    all += h;
    if (t >= 1) after += h;
  }
  close(paper.result().baseline_entropy_bits.mean, all / (B * T), 1e-4, 'every position');
  close(layerlab.result().baseline_entropy_bits.mean, after / (B * (T - 1)), 1e-4, 'after BOS');
  assert.notEqual(paper.result().baseline_entropy_bits.n, layerlab.result().baseline_entropy_bits.n);
  assert.equal(analysesFor('paper').find((a) => a.name === 'repeat')!.kind, 'whole');
});

test('sub-word heads: the authors\' head where it applies (pythia-2.8b-deduped), else the best-scoring head, the rule recorded', () => {
  assert.deepEqual(authorsSubwordHead('EleutherAI/pythia-2.8b-deduped', 32, 32), { layer: 1, head: 6 });
  assert.equal(authorsSubwordHead('EleutherAI/pythia-1.4b-deduped', 24, 16), undefined);
  assert.equal(authorsSubwordHead('pythia-2.8b-deduped', 1, 32), undefined);
  assert.deepEqual(authorsSubwordHead('/cache/models--EleutherAI--pythia-2.8b-deduped/snapshots/abc', 32, 32), { layer: 1, head: 6 });
  assert.equal(authorsSubwordHead('/models/pythia-2.8b', 32, 32), undefined);
  const model = loadModelDir(openGolden('gpt2').dir);
  const tok = charTokenizer(model.config.vocabSize);
  const ex = (text: string, m: number) => ({ word: text.split(' ').pop()!, ids: [1, ...tok.encode(text)], m });
  const data: SubwordDataset = {
    multi: [ex('a b c dd dcba', 4), ex('b a d c abcd', 4)],
    single: [ex('a b c dd d', 1), ex('c c a b a', 1)],
    multiTokenCounts: [4],
    choices: {},
  };
  const best = scoreSubwordHeads(model, tok, data, { width: 6, heatmapSamples: 2 });
  const top = best.heads[0];
  assert.deepEqual([best.heatmap.layer, best.heatmap.head], [top.layer, top.head]);
  assert.equal(best.heatmap.rule, 'the best-scoring head');
  const other = best.heads[best.heads.length - 1];
  const chosen = scoreSubwordHeads(model, tok, data, { width: 6, heatmapSamples: 2, heatmapHead: { layer: other.layer, head: other.head, rule: "the authors' head" } });
  assert.deepEqual([chosen.heatmap.layer, chosen.heatmap.head], [other.layer, other.head]);
  assert.equal(chosen.heatmap.rule, "the authors' head");
  // The heatmap rows are that head's attention from the last query, read here from a plain forward.
  const H = model.config.nHeads;
  for (const row of chosen.heatmap.multi) {
    const e = data.multi.find((x) => x.word === row.word)!;
    const n = e.ids.length;
    const A = forward(model, [e.ids], { cache: [`blocks.${other.layer}.attn.hook_pattern`], skipLogits: true }).cache.get(`blocks.${other.layer}.attn.hook_pattern`)!.data;
    const want = Array.from({ length: 6 }, (_, j) => A[(other.head * n + n - 1) * n + n - 6 + j]);
    row.attention.forEach((v, j) => close(v, want[j], 1e-5, `${row.word} key ${j}`));
    assert.ok(H > other.head);
  }
  assert.notDeepEqual(chosen.heatmap.multi[0].attention, best.heatmap.multi[0].attention);
});

test('CKA under the paper protocol in sharded jobs: the protocol reaches every job (shards agree, differ from layerlab)', async (t) => {
  const model = loadModelDir(openGolden('gpt2').dir, {}, new JsBackend());
  const run = async (protocol: 'paper' | 'layerlab', shardDocs?: number) =>
    (await runStages(
      { model, tokenizer: charTokenizer(model.config.vocabSize), bos: 1, corpus: syntheticCorpus(8, 30), dataFile: 'synthetic', outDir: tempDir(t) },
      { protocol, shardDocs, analyses: ['cka'], seqLen: 24, progress: false, cka: { lastToken: false } },
    )).results.cka!;
  const whole = await run('paper'), sharded = await run('paper', 3), layerlab = await run('layerlab', 3);
  const m = (r: typeof whole) => r.all_tokens!.matrix.flat() as number[];
  m(sharded).forEach((v, i) => close(v, m(whole)[i], 1e-9, `entry ${i}`));
  assert.ok(m(layerlab).some((v, i) => Math.abs(v - m(whole)[i]) > 1e-3));
  assert.match(JSON.stringify(whole.choices), /center_writing_weights/);
});

test('protocol variants keep the name, file, validator and figure of the analysis they replace', () => {
  for (const p of ['layerlab', 'paper'] as const) {
    const list = analysesFor(p);
    assert.deepEqual(list.map((a) => a.name), ANALYSES.map((a) => a.name));
    list.forEach((a, i) => {
      assert.equal(a.file, ANALYSES[i].file);
      assert.equal(a.schema, ANALYSES[i].schema);
      assert.equal(a.figure, ANALYSES[i].figure);
    });
  }
  assert.deepEqual(analysesFor('paper').filter((a, i) => a !== ANALYSES[i]).map((a) => a.name), ['local-attention', 'logit-lens', 'repeat']);
  assert.equal(analysisNamed('logit-lens', 'paper')!.kind, 'whole');
  assert.equal(analysisNamed('logit-lens')!.kind, 'streaming');
});

test('DocMeans: one value per document however its values arrive; merge and JSON round trip', () => {
  const a = new DocMeans().add(0, 3, 2).add(1, 10, 4).add(0, 1, 2);
  const b = new DocMeans().add(2, 5, 1).add(1, 0, 1).add(3, 7, 0);
  const m = DocMeans.fromJSON(JSON.parse(JSON.stringify(a.toJSON()))).merge(b);
  // Documents: 0 -> 4/4 = 1; 1 -> 10/5 = 2; 2 -> 5; document 3 holds nothing.
  const s = m.stat();
  assert.equal(s.docs, 3);
  assert.equal(s.n, 3);
  close(s.mean, 8 / 3, 1e-12, 'mean of document means');
  close(s.std, Math.sqrt(((1 - 8 / 3) ** 2 + (2 - 8 / 3) ** 2 + (5 - 8 / 3) ** 2) / 2), 1e-12, 'sample std');
  close(s.sem, s.std! / Math.sqrt(3), 1e-12, 'sem');
  assert.throws(() => m.add(0, NaN, 1), /finite/);
});

test('runStages --protocol paper on golden gpt2: the lens and repeat files come from the scripts\' inputs and validate', async (t) => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const tok = charTokenizer(model.config.vocabSize);
  const corpus = syntheticCorpus(12, 40);
  const { results } = await runStages(
    { model, tokenizer: tok, bos: 1, corpus, dataFile: 'synthetic', outDir: tempDir(t) },
    { protocol: 'paper', analyses: ['logit-lens', 'repeat'], seqLen: 24, repeatBlockLengths: [2], progress: false },
  );
  const lens = results['logit-lens']!, rep = results.repeat!;
  assert.equal(lens.kl_unit, 'nats');
  assert.equal(lens.per_point.length, model.config.nLayers + 1);
  assert.equal(lens.per_point[0].entropy_bits.docs, 10);
  assert.equal(lens.per_point[0].entropy_bits.n, 10, 'one value per document');
  assert.equal(lens.per_point[model.config.nLayers].kl!.mean, 0);
  // Every position of BOS-less inputs of min(512, n_ctx) tokens from the first 10 documents.
  const tokens = corpus.docs.slice(0, 10).reduce((s, d) => s + Math.min(model.config.nCtx, tok.encode(d).length), 0);
  assert.equal(rep.baseline_entropy_bits.n, tokens);
  assert.match(JSON.stringify(rep.choices), /copy_layers_range\.py/);
});

test('entropy under the paper protocol clamps every probability at 1e-9 (the scripts\' calculate_base2_entropy), by hand', () => {
  const model = loadModelDir(openGolden('gpt2').dir);
  const V = model.config.vocabSize;
  // One row: logit 0 for token 0, -30 for the V - 1 others (p ≈ 9e-14 each, far below the floor).
  const logits = new Float32Array(2 * V).fill(-30);
  logits[0] = 0;
  logits[V] = 0;
  const p0 = 1 / (1 + (V - 1) * Math.exp(-30)), pi = Math.exp(-30) * p0;
  const exact = -(p0 * Math.log2(p0)) - (V - 1) * pi * Math.log2(pi);
  const clamped = -(p0 * Math.log2(p0)) - (V - 1) * 1e-9 * Math.log2(1e-9);
  const ids = { ids: new Int32Array(2), batch: 1, seq: 2 };
  const layerlab = new RepeatAccumulator(model.config.nLayers, [], 0);
  const paper = new RepeatAccumulator(model.config.nLayers, [], 0, 1e-9);
  layerlab.addBatch(model, ids, logits, [0]);
  paper.addBatch(model, ids, logits, [0]);
  close(layerlab.result().baseline_entropy_bits.mean, exact, 1e-9, 'exact');
  close(paper.result().baseline_entropy_bits.mean, clamped, 1e-9, 'clamped');
  assert.ok(clamped - exact > 2e-6);
});
