/**
 * Synthetic run folders for the report tests, following src/results/schema.ts: a sweep (metrics.json)
 * and every stage file, with curves shaped like the paper's (sensitive first and last layers, local
 * attention early, logit-lens KL falling in the second half, suppression neurons at the end). Seeded, so
 * every test sees the same numbers.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  CkaResult,
  IngProbeResult,
  InterventionRow,
  LocalAttentionResult,
  LogitLensResult,
  Manifest,
  MlpNormResult,
  NeuronsResult,
  ProbeResult,
  RepeatResult,
  Stat,
  StageBoundariesResult,
  SubwordHeadsResult,
  SweepResult,
} from '../../src/results/schema.js';
import { ANALYSIS_FILES, type AnalysisName } from '../../src/results/run-files.js';
import { mulberry32 } from '../../src/analyses/math/prng.js';
import type { Provenance } from '../../src/util/provenance.js';

export interface FixtureOptions {
  layers: number;
  /** Model id recorded in the provenance. */
  model?: string;
  heads?: number;
  seed?: number;
  /** 'flat': everything in DIR; 'split': DIR/sweep and DIR/stages with a paper manifest in DIR. */
  layout?: 'flat' | 'split';
  /** Simulate a run killed before these analyses finished (their files are not written). */
  interruptedBefore?: AnalysisName[];
  /** Leave out analyses entirely (not requested). */
  omit?: Array<AnalysisName | 'sweep'>;
  /** Write wic.json as skipped. */
  probeSkipped?: boolean;
  /** Stage files as `--protocol paper` writes them (local attention shows the per-entry mean, lens KL in nats). */
  protocol?: 'layerlab' | 'paper';
}

const rng = mulberry32;

const stat = (mean: number, std: number, count: number, docs = 64): Stat => ({ mean, std, sem: std / Math.sqrt(docs), n: count, docs });

export function fixtureProvenance(model: string, created = '2025-01-01T00:00:00.000Z'): Provenance {
  return {
    layerlab_version: '0.1.0',
    git_commit: '6a92e1f0c0ffee0000000000000000000000beef',
    model,
    model_dir: `/models/${model}`,
    revision: 'main',
    model_commit: 'abc123def4567890',
    family: 'gpt_neox',
    model_type: 'gpt_neox',
    stored_dtype: 'float16',
    compute_dtype: 'float32',
    backend: 'native',
    blas_core: 'openblas-haswell',
    threads: 2,
    node: 'v20.20.2',
    host: { cpu: 'Test CPU', cores: 2, name: 'fixture-host' },
    created,
  };
}

const CONTEXT = [' once', ' upon', ' a', ' time', ' the', ' old', ' man'];

const SWEEP_CHOICES = { kl: 'KL(original ‖ intervened), nats, mean over scored tokens', positions: 'all non-BOS tokens', agreement: 'top-1 argmax equality' };

export const FIXTURE_DATA = {
  file: '/data/pile-10k.parquet',
  sha256: '3f1c9a7e5b2d4c6a8e0f1b3d5c7e9a1b2c4d6e8f0a1b3c5d7e9f1a2b3c4d5e6f',
  format: 'parquet' as const,
  documents: 64,
  windows: 80,
  tokens: 40_880,
  seq_len: 512,
  max_tokens: 40_960,
};

/** Every file the fixture writes for a run with `layers` layers (also used by tests to check counts). */
export function fixtureResults(o: FixtureOptions) {
  const L = o.layers;
  const H = o.heads ?? 4;
  const model = o.model ?? `fixture/pythia-${L}l`;
  const r = rng(o.seed ?? L * 7919);
  const noise = (s: number) => (r() - 0.5) * 2 * s;
  const prov = fixtureProvenance(model);
  const d = (l: number) => (L > 1 ? l / (L - 1) : 0);
  const base = { provenance: prov, layers: L };
  const tokens = FIXTURE_DATA.tokens;

  const klAt = (x: number, scale: number) => Math.max(1e-4, 0.03 + scale * 3.2 * Math.exp(-x / 0.06) + scale * 0.9 * Math.exp(-(1 - x) / 0.05) + 0.05 * Math.sin(6 * x) ** 2 + noise(0.01));
  const row = (kind: 'delete' | 'swap', layer: number, plan: number[], kl: number): InterventionRow => {
    const agreement = Math.min(1, Math.max(0, Math.exp(-0.55 * kl) + noise(0.01)));
    return {
      kind,
      layer,
      plan,
      relative_depth: d(layer),
      name: `${kind}_${layer}`,
      tokens,
      docs: FIXTURE_DATA.documents,
      kl_mean: kl,
      kl_std: kl * 1.4,
      kl_sem: kl * 0.08,
      agreement,
      agreement_std: Math.sqrt(agreement * (1 - agreement)),
      agreement_sem: 0.004 + 0.01 * (1 - agreement),
      accuracy: 0.3 * agreement,
      accuracy_std: 0.45,
      accuracy_sem: 0.01,
      accuracy_baseline: 0.31,
      loss: 3.2 + kl,
      loss_std: 2,
      loss_sem: 0.02,
      loss_baseline: 3.2,
      entropy_bits: 4.1 + kl * 0.4,
      entropy_bits_std: 1.8,
      entropy_bits_sem: 0.03,
      entropy_bits_baseline: 4.1,
      loss_delta: kl,
      entropy_bits_delta: kl * 0.4,
    };
  };
  const full = Array.from({ length: L }, (_, i) => i);
  const interventions: InterventionRow[] = [];
  for (let l = 0; l < L; l++) interventions.push(row('delete', l, full.filter((x) => x !== l), klAt(d(l), 1)));
  for (let l = 0; l < L - 1; l++) {
    const plan = [...full];
    plan[l] = l + 1;
    plan[l + 1] = l;
    interventions.push(row('swap', l, plan, klAt(d(l), 0.7)));
  }
  const meanOf = (k: string, f: (x: InterventionRow) => number) => {
    const xs = interventions.filter((x) => x.kind === k);
    return xs.reduce((a, x) => a + f(x), 0) / xs.length;
  };
  const sweep: SweepResult = {
    provenance: prov,
    layers: L,
    data: FIXTURE_DATA,
    choices: SWEEP_CHOICES,
    baseline: { plan: full, tokens, docs: FIXTURE_DATA.documents, loss: 3.2, loss_std: 2, loss_sem: 0.02, accuracy: 0.31, accuracy_std: 0.46, accuracy_sem: 0.01, entropy_bits: 4.1, entropy_bits_std: 1.8, entropy_bits_sem: 0.03 },
    interventions,
    summary: Object.fromEntries(
      ['delete', 'swap'].map((k) => {
        const xs = interventions.filter((x) => x.kind === k);
        const inner = xs.filter((x) => x.layer > 0 && x.layer < (k === 'delete' ? L - 1 : L - 2));
        return [
          k,
          {
            interventions: xs.length,
            mean_agreement: meanOf(k, (x) => x.agreement),
            mean_agreement_excluding_ends: inner.length ? inner.reduce((a, x) => a + x.agreement, 0) / inner.length : null,
            min_agreement: Math.min(...xs.map((x) => x.agreement)),
            max_agreement: Math.max(...xs.map((x) => x.agreement)),
            mean_kl: meanOf(k, (x) => x.kl_mean),
            definition: `unweighted mean over the ${k} interventions`,
          },
        ];
      }),
    ),
  };

  const windows = [1, 2, 4, 8, 16];
  const local: LocalAttentionResult = {
    ...base,
    analysis: 'local-attention',
    choices: { windows, include_bos: false, positions: 'all non-BOS queries', pooling: 'equal weight over heads and queries' },
    windows,
    include_bos: false,
    shown: o.protocol === 'paper' ? 'mean_entry' : 'total',
    per_layer: full.map((l) => {
      const x = d(l);
      const a = 0.06 + 0.5 * Math.exp(-x / 0.2) + noise(0.01);
      return {
        layer: l,
        relative_depth: x,
        windows: Object.fromEntries(windows.map((k) => [String(k), stat(1 - Math.exp(-k * a), 0.2, tokens * H)])),
        mean_entry: Object.fromEntries(windows.map((k) => [String(k), stat((1 - Math.exp(-k * a)) / k, 0.08, 64)])),
        prev5: stat((1 - Math.exp(-5 * a)) / 5, 0.08, tokens * H * 5),
      };
    }),
  };

  const multiWords = [
    ['play', 'ing'],
    ['un', 'believ', 'able'],
    ['trans', 'former'],
    ['Mass', 'achusetts'],
    ['photo', 'syn', 'thesis'],
    ['re', 'visit'],
  ];
  const singleWords = ['the', 'house', 'river', 'green', 'walk', 'music'];
  const width = 6;
  const headLayer = Math.min(L - 1, 1);
  const heads: SubwordHeadsResult['heads'] = [];
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++) {
      const strong = l === headLayer && h === 2;
      const m = strong ? 0.62 : Math.max(0.01, 0.12 * Math.exp(-d(l) / 0.3) + r() * 0.05);
      const s = Math.max(0.01, m * (strong ? 0.15 : 0.8) + r() * 0.02);
      heads.push({ layer: l, head: h, score: m - s, multi: stat(m, 0.2, 240), single: stat(s, 0.2, 240) });
    }
  heads.sort((a, b) => b.score - a.score);
  const attnRow = (n: number) => {
    const a = Array.from({ length: width }, () => r() * 0.05);
    a[width - n] = n > 1 ? 0.55 + r() * 0.2 : 0.3;
    a[width - 1] += 0.1;
    const s = a.reduce((x, y) => x + y, 0);
    return a.map((v) => v / s);
  };
  const subword: SubwordHeadsResult = {
    ...base,
    analysis: 'subword-heads',
    choices: { examples: 'words of 2+ sub-tokens from the data, single-token controls', max_examples: 240, multi_token_counts: [2, 3] },
    examples: { multi: 240, single: 240, multi_tokens: 560 },
    heads,
    heatmap: {
      layer: heads[0]!.layer,
      head: heads[0]!.head,
      width,
      rule: 'the best-scoring head',
      // like the real file: `tokens` are the last `width` keys (context, then the word's sub-tokens)
      multi: multiWords.map((t) => ({ word: t.join(''), tokens: [...CONTEXT.slice(0, width - t.length), ' ' + t[0]!, ...t.slice(1)], attention: attnRow(t.length) })),
      single: singleWords.map((w) => ({ word: w, tokens: [...CONTEXT.slice(0, width - 1), ' ' + w], attention: attnRow(1) })),
    },
  };

  const lens: LogitLensResult = {
    ...base,
    analysis: 'logit-lens',
    choices: { norm: 'final layer norm applied', units: 'bits', positions: 'all scored tokens' },
    kl_unit: o.protocol === 'paper' ? 'nats' : 'bits',
    per_point: Array.from({ length: L + 1 }, (_, p) => {
      const x = p / L;
      const sig = 1 / (1 + Math.exp(-(x - 0.6) * 12));
      const ent = 11 - 7 * sig + (x > 0.9 ? 1.2 * (x - 0.9) * 10 : 0) + noise(0.1);
      const kl = Math.max(0, 9 * (1 - sig) * (1 - x) + noise(0.05));
      const klBits = stat(p === L ? 0 : kl, 2, tokens);
      const klNats = { ...klBits, mean: klBits.mean! * Math.LN2, std: klBits.std! * Math.LN2, sem: klBits.sem! * Math.LN2 };
      return { point: p, relative_depth: x, entropy_bits: stat(ent, 1.5, tokens), kl: o.protocol === 'paper' ? klNats : klBits, kl_bits: klBits, agreement: stat(sig, 0.3, tokens), rank_of_final_top1: stat(1000 * (1 - sig) + 1, 500, tokens) };
    }),
  };

  const d_mlp = 2048;
  const neurons: NeuronsResult = {
    ...base,
    analysis: 'neurons',
    choices: { mode: 'tl', threshold: 10, unembedding: 'W_U with final-norm weight folded in' },
    mode: 'tl',
    threshold: 10,
    per_layer: full.map((l) => {
      const x = d(l);
      const pd = Math.max(0, 0.04 * Math.exp(-(((x - 0.75) / 0.15) ** 2)) + noise(0.002));
      const sd = Math.max(0, 0.05 * Math.exp(-(((x - 1) / 0.1) ** 2)) + noise(0.002));
      return { layer: l, relative_depth: x, d_mlp, prediction: Math.round(pd * d_mlp), suppression: Math.round(sd * d_mlp), prediction_density: Math.round(pd * d_mlp) / d_mlp, suppression_density: Math.round(sd * d_mlp) / d_mlp };
    }),
    top: [{ layer: L - 1, neuron: 17, kurtosis: 120, skew: -4.2, kind: 'suppression' }],
  };

  const mlp: MlpNormResult = {
    ...base,
    analysis: 'mlp-norm',
    choices: { norm: 'L2 of the MLP output vector', positions: 'all scored tokens' },
    per_layer: full.map((l) => {
      const x = d(l);
      return { layer: l, relative_depth: x, norm: stat(2 + 3 * x + 20 * Math.exp(-(1 - x) / 0.08) + noise(0.2), 1.5, tokens) };
    }),
  };

  const repeat: RepeatResult = {
    ...base,
    analysis: 'repeat',
    choices: { block_lengths: [1, 2], metric: 'entropy of the final distribution (bits)' },
    baseline_entropy_bits: stat(4.1, 2, tokens),
    rows: [1, 2].flatMap((len) =>
      Array.from({ length: L - len + 1 }, (_, s) => {
        const plan = [...full.slice(0, s + len), ...full.slice(s, s + len), ...full.slice(s + len)];
        const x = d(s);
        return { block_length: len, start_layer: s, relative_depth: x, plan, entropy_bits: stat(4.1 + len * (0.9 * Math.exp(-x / 0.1) + 0.6 * Math.exp(-(1 - x) / 0.1) + 0.1) + noise(0.05), 2, tokens) };
      }),
    ),
  };

  const matrix = (scale: number) =>
    full.map((i) => full.map((j) => (i === j ? 1 : Math.max(0, Math.min(1, Math.exp(-Math.abs(i - j) / (L * scale)) + noise(0.01))))));
  const sym = (m: number[][]) => m.map((row, i) => row.map((v, j) => (j < i ? m[j]![i]! : v)));
  const cka: CkaResult = {
    ...base,
    analysis: 'cka',
    choices: { kernel: 'linear', estimator: 'unbiased HSIC, minibatch', representations: 'block outputs (residual stream)' },
    last_token: { matrix: sym(matrix(0.35)), batches: 10, batch_size: 8 },
    all_tokens: { matrix: sym(matrix(0.5)), batches: 10 },
  };

  const wic: ProbeResult = o.probeSkipped
    ? { ...base, analysis: 'wic', choices: {}, status: 'skipped', reason: 'WiC data file not found (--wic not given)' }
    : {
        ...base,
        analysis: 'wic',
        choices: { classifier: 'logistic regression', features: 'target word, both sentences, concatenated with |a − b|', l2: 'chosen on validation from 1e-4..1e2' },
        status: 'done',
        chance: 0.5,
        per_point: Array.from({ length: L + 1 }, (_, p) => {
          const x = p / L;
          const dev = 0.52 + 0.1 * Math.exp(-(((x - 0.45) / 0.25) ** 2)) + noise(0.01);
          return { point: p, relative_depth: x, train_accuracy: Math.min(1, dev + 0.15 + noise(0.01)), dev_accuracy: dev, l2: 10 ** Math.round(noise(2)) };
        }),
        examples: { train: 5428, dev: 638 },
      };

  const b2 = Math.max(1, Math.round(0.17 * (L - 1)));
  const b3 = Math.max(b2 + 1, Math.round(0.55 * (L - 1)));
  const b4 = Math.min(L - 1, Math.max(b3 + 1, Math.round(0.88 * (L - 1))));
  const stages: StageBoundariesResult = {
    ...base,
    analysis: 'stages',
    choices: {},
    boundaries: [
      { stage: 2, layer: b2, relative_depth: d(b2), evidence: ['local attention falls below midpoint', 'deletion KL falls below midpoint'] },
      { stage: 3, layer: b3, relative_depth: d(b3), evidence: ['logit-lens KL knee'] },
      { stage: 4, layer: b4, relative_depth: d(b4), evidence: ['suppression exceeds prediction density'] },
    ],
    method: 'fixture',
    signals_used: ['localAttention', 'deletionKl', 'logitLensKl', 'suppression_density'],
  };

  const probe: ProbeResult = { ...base, analysis: 'probe', choices: {}, status: 'skipped', reason: 'no probe file given (--probe FILE.jsonl)' };
  // The "-ing" probes, from their own generator so that the numbers above stay as they were.
  const ingProbe = ingProbeFixture(base, L, rng((o.seed ?? L * 7919) + 1));
  const files: Record<AnalysisName, unknown> = {
    probe,
    'local-attention': local,
    'subword-heads': subword,
    'logit-lens': lens,
    neurons,
    'mlp-norm': mlp,
    repeat,
    cka,
    wic,
    'ing-probe': ingProbe,
    stages,
  };
  return { model, prov, sweep, files };
}

/** 36 "-ing" neurons in the second half, suppression ones first; 32 probes, the ensemble rising above the model. */
function ingProbeFixture(base: { provenance: Provenance; layers: number }, L: number, r: () => number): IngProbeResult {
  const K = 32, top = 36, bins = 24;
  const neurons = Array.from({ length: top }, (_, i) => {
    const kind = i % 3 === 0 ? ('suppression' as const) : i % 3 === 1 ? ('prediction' as const) : ('none' as const);
    const score = 2.5 * Math.exp(-i / 14);
    const diff = kind === 'suppression' ? -score : score;
    return {
      rank: i + 1, layer: Math.min(L - 1, Math.floor(L / 2 + r() * (L / 2))), neuron: Math.floor(r() * 4096), score, diff,
      mean_ing: diff / 2, mean_other: -diff / 2, kurtosis: kind === 'none' ? 6 : 14 + 20 * r(), skew: kind === 'suppression' ? -1.5 : 1.2, variance: 0.004 + 0.004 * r(), kind,
    };
  });
  const histograms = neurons.map((n) => {
    const other = Array.from({ length: bins }, (_, b) => Math.round(4000 * Math.exp(-(((b - bins / 2) / 3) ** 2))));
    const centre = n.diff < 0 ? bins / 4 : (3 * bins) / 4;
    const ing = Array.from({ length: bins }, (_, b) => Math.round(120 * Math.exp(-(((b - centre) / 2) ** 2))));
    return { layer: n.layer, neuron: n.neuron, lo: -1 - r(), hi: 1 + r(), ing, other };
  });
  const single = neurons.slice(0, K).map((n) => {
    const acc = (n.kind === 'suppression' ? 0.74 : n.kind === 'prediction' ? 0.66 : 0.58) + (r() - 0.5) * 0.04;
    return { rank: n.rank, layer: n.layer, neuron: n.neuron, kind: n.kind, train_accuracy: acc + 0.01, test_accuracy: acc, l2: 0.01 };
  });
  const order = single.map((_, i) => i).sort((a, b) => single[b]!.train_accuracy - single[a]!.train_accuracy || a - b);
  const ensemble = order.map((c, i) => ({ k: i + 1, added_rank: single[c]!.rank, train_accuracy: 0.8 + 0.12 * (1 - Math.exp(-i / 6)), test_accuracy: 0.76 + 0.1 * (1 - Math.exp(-i / 6)), l2: 0.1 }));
  return {
    ...base,
    analysis: 'ing-probe',
    choices: { token_rule: 'decoded token string, stripped and lower-cased, ends with "ing"', score: '|mean ing - mean other| of W_U . w_out' },
    status: 'done',
    vocabulary: { tokens: 50257, ing_tokens: 1893, examples: [' going', 'ing', ' being'] },
    selection: { total_neurons: L * 4096, candidates: 5120, ranked_over: 'candidates', neurons },
    histograms,
    probes: {
      status: 'done',
      dataset: { ing_occurrences: 5321, other_occurrences: 9120, ing_forms: 812, other_forms: 1430, per_class: 1000, train: 1600, test: 400 },
      single,
      ensemble,
      baseline: { model_top1_accuracy: 0.81, model_top1_accuracy_all: 0.8, chance: 0.5 },
    },
  };
}

function manifest(kind: Manifest['kind'], prov: Provenance, requested: string[], complete: string[], finished: boolean, choices: Record<string, unknown>): Manifest {
  return {
    kind,
    provenance: prov,
    data: FIXTURE_DATA,
    choices,
    requested,
    complete,
    ...(finished ? { finished_at: '2025-01-01T01:00:00.000Z' } : {}),
    command: ['layerlab', kind, '--model', prov.model, '--data', FIXTURE_DATA.file],
  };
}


/** Writes a synthetic run folder; returns its path. */
export function writeFixtureRun(dir: string, o: FixtureOptions): string {
  rmSync(dir, { recursive: true, force: true });
  const { prov, sweep, files } = fixtureResults(o);
  const layout = o.layout ?? 'flat';
  const omit = new Set(o.omit ?? []);
  const interrupted = new Set(o.interruptedBefore ?? []);
  const analyses = (Object.keys(ANALYSIS_FILES) as AnalysisName[]).filter((a) => a !== 'probe' && !omit.has(a));
  const doneAnalyses = analyses.filter((a) => !interrupted.has(a));
  const stagesFinished = interrupted.size === 0;
  const withSweep = !omit.has('sweep');
  const write = (d: string, name: string, v: unknown) => writeFileSync(join(d, name), JSON.stringify(v, null, 2) + '\n');
  const stageChoices = { analyses: analyses.join(','), positions: 'all non-BOS tokens' };

  mkdirSync(dir, { recursive: true });
  if (layout === 'flat') {
    const requested = [...(withSweep ? ['delete', 'swap'] : []), ...analyses];
    const complete = [...(withSweep ? ['delete', 'swap'] : []), ...doneAnalyses];
    const kind: Manifest['kind'] = withSweep && analyses.length ? 'paper' : withSweep ? 'sweep' : 'stages';
    write(dir, 'manifest.json', manifest(kind, prov, requested, complete, stagesFinished, { ...SWEEP_CHOICES, ...stageChoices }));
    const written = ['manifest.json'];
    if (withSweep) {
      write(dir, 'metrics.json', sweep);
      written.push('metrics.json');
    }
    for (const a of doneAnalyses) {
      write(dir, ANALYSIS_FILES[a], files[a]);
      written.push(ANALYSIS_FILES[a]);
    }
    write(dir, '.layerlab-run.json', { key: JSON.stringify({ model: prov.model }), finished: stagesFinished, files: written });
  } else {
    write(dir, 'manifest.json', manifest('paper', prov, ['sweep', 'stages'], stagesFinished ? ['sweep', 'stages'] : ['sweep'], stagesFinished, { sweep: 'sweep/', stages: 'stages/' }));
    write(dir, '.layerlab-run.json', { key: JSON.stringify({ paper: prov.model }), finished: stagesFinished, files: ['manifest.json', 'sweep', 'stages'] });
    if (withSweep) {
      const sd = join(dir, 'sweep');
      mkdirSync(sd);
      write(sd, 'manifest.json', manifest('sweep', prov, ['delete', 'swap'], ['delete', 'swap'], true, SWEEP_CHOICES));
      write(sd, 'metrics.json', sweep);
      write(sd, '.layerlab-run.json', { key: 'sweep', finished: true, files: ['manifest.json', 'metrics.json'] });
    }
    const td = join(dir, 'stages');
    mkdirSync(td);
    write(td, 'manifest.json', manifest('stages', prov, analyses, doneAnalyses, stagesFinished, stageChoices));
    for (const a of doneAnalyses) write(td, ANALYSIS_FILES[a], files[a]);
    write(td, '.layerlab-run.json', { key: 'stages', finished: stagesFinished, files: ['manifest.json', ...doneAnalyses.map((a) => ANALYSIS_FILES[a])] });
  }
  return dir;
}
