import type { Backend } from '../src/backend/index.js';
import { forward } from '../src/model/forward.js';
import { gpt2SmallConfig, randomModel, SeededRandom } from '../src/model/random.js';
import { runSweep, type SweepOutcome, type SweepStrategy } from '../src/sweep/engine.js';
import { generateInterventions, parseInterventionSpecs } from '../src/sweep/interventions.js';
import { PlanTrie } from '../src/sweep/plan-trie.js';

export interface SweepBenchOptions {
  /** Random-token windows of `seq` tokens (BOS included); default 32 x 512 = 16k tokens (env SWEEP_BENCH_WINDOWS / SWEEP_BENCH_SEQ). */
  windows?: number;
  seq?: number;
  /** Default all three (env SWEEP_BENCH_STRATEGIES=trie,recompute,paper). */
  strategies?: SweepStrategy[];
  /** Tokens per batch for 'trie' and 'recompute'; default 4096 (the CLI's default cap). */
  batchTokens?: number;
  /** Runs per strategy, interleaved; the fastest counts (env SWEEP_BENCH_REPS, default 1). */
  reps?: number;
  log?: (s: string) => void;
}

/**
 * The sweep benchmark: all deletions and swaps of a GPT-2-small-shaped random model over random token
 * windows, three ways:
 * - trie: prefix sharing (the engine's default);
 * - recompute: every plan recomputed from the embedding (the baseline once per batch);
 * - paper: the authors' method: one window at a time, every plan from scratch and the original model
 *   rerun for every plan.
 * All three accumulate the same metrics; the largest difference between their results is reported.
 */
export function benchSweep(backend: Backend, o: SweepBenchOptions = {}) {
  const env = process.env;
  const nWindows = o.windows ?? Number(env.SWEEP_BENCH_WINDOWS ?? 32);
  const seq = o.seq ?? Number(env.SWEEP_BENCH_SEQ ?? 512);
  const strategies = o.strategies ?? ((env.SWEEP_BENCH_STRATEGIES ?? 'trie,recompute,paper').split(',') as SweepStrategy[]);
  const batchTokens = o.batchTokens ?? 4096;
  const reps = o.reps ?? Number(env.SWEEP_BENCH_REPS ?? 1);
  const log = o.log ?? (() => {});
  const config = gpt2SmallConfig();
  const model = randomModel(config, 7, backend);
  const rng = new SeededRandom(5);
  const windows = Array.from({ length: nWindows }, () =>
    Int32Array.from({ length: seq }, (_, t) => (t === 0 ? config.bosTokenId! : Math.floor(rng.uniform() * config.vocabSize))),
  );
  const data = { windows, docIndex: windows.map((_, i) => i) };
  const plans = generateInterventions(parseInterventionSpecs('delete,swap'), config.nLayers).map((i) => i.plan);
  const trie = new PlanTrie(plans, Array.from({ length: config.nLayers }, (_, i) => i));
  forward(model, { ids: windows[0].subarray(0, 64), batch: 1, seq: 64 }); // warm-up: page in weights, JIT

  const runs: Record<string, { ms: number; tokensPerSecond: number; blocks: number; unembedRows: number }> = {};
  const outcomes: Record<string, SweepOutcome> = {};
  for (let rep = 0; rep < reps; rep++)
    for (const strategy of strategies) {
      log(`sweep bench: ${strategy}${reps > 1 ? ` (run ${rep + 1}/${reps})` : ''}, ${plans.length} plans + baseline, ${nWindows} x ${seq} tokens ...`);
      const t0 = performance.now();
      const out = runSweep(model, plans, data, { maxBatchTokens: batchTokens, strategy });
      const ms = performance.now() - t0;
      outcomes[strategy] = out;
      log(`  ${(ms / 1000).toFixed(1)} s, ${out.stats.blocks} block runs, ${out.stats.unembedRows} unembedded rows`);
      if (runs[strategy] && runs[strategy].ms <= ms) continue;
      runs[strategy] = { ms: +ms.toFixed(0), tokensPerSecond: +((out.tokens / ms) * 1000).toFixed(1), blocks: out.stats.blocks, unembedRows: out.stats.unembedRows };
    }
  const ratio = (a: string, b: string) => (runs[a] && runs[b] ? +(runs[a].ms / runs[b].ms).toFixed(2) : null);
  let maxAbsDiff = 0;
  const ref = outcomes.trie ?? Object.values(outcomes)[0];
  for (const out of Object.values(outcomes))
    out.plans.forEach((p, i) => {
      for (const m of ['kl', 'agreement', 'accuracy', 'loss', 'entropy'] as const)
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(p[m].summary().mean - ref.plans[i][m].summary().mean));
    });
  return {
    model: 'gpt2-small (random)',
    interventions: 'delete,swap',
    plans: plans.length,
    windows: nWindows,
    seq,
    tokens: nWindows * (seq - 1),
    batchTokens,
    reps,
    /** Block runs per batch if every plan shares its longest prefix vs recomputing every plan (baseline included). */
    blocksPerBatch: { shared: trie.sharedBlockCount, recompute: trie.recomputeBlockCount },
    runs,
    /** Time ratios: how many times faster prefix sharing is. */
    speedup: { sharingVsRecompute: ratio('recompute', 'trie'), sharingVsPaper: ratio('paper', 'trie'), recomputeVsPaper: ratio('paper', 'recompute') },
    /** Largest difference of any plan's mean metric between the strategies. */
    maxAbsDiff,
  };
}
