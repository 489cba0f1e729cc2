import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Backend } from '../src/backend/index.js';
import { evalUnits, scoreUnit, type EvalStrategy, type UnitScores } from '../src/evaluate/engine.js';
import { encodeRequest, makeEncoder, type ScoredRequest } from '../src/evaluate/requests.js';
import { readTask, TASKS } from '../src/evaluate/tasks/registry.js';
import { loadTokenizer } from '../src/load/tokenizer.js';
import { forward } from '../src/model/forward.js';
import { gpt2SmallConfig, randomModel, SeededRandom } from '../src/model/random.js';
import { generateInterventions, parseInterventionSpecs } from '../src/sweep/interventions.js';
import { packageRoot } from '../src/util/package-root.js';

export interface EvaluateBenchOptions {
  /** ARC-Easy items (env EVAL_BENCH_ITEMS, default 8): the naive path runs items x 4 x 24 full forwards. */
  items?: number;
  /** Tokens per unit for the shared path (default the CLI's 2048). */
  batchTokens?: number;
  log?: (s: string) => void;
}

/**
 * ARC-Easy under every deletion and swap of a GPT-2-small-shaped random model (24 plans with the
 * baseline), two ways, side by side in one process:
 * - shared: layerlab evaluate's engine (units of whole items through the plan trie, each item one packed
 *   row with the context computed once, scored rows only); also without packing, for comparison;
 * - naive: one full forward per (item, choice, plan), every position unembedded, i.e. what one
 *   lm-eval run per modified model computes.
 * Items are the first ARC-Easy questions encoded the lm-eval way with the GPT-2 tokenizer when
 * ../shared/{data,tokenizers/gpt2} are present (bench only; the product never reads ../shared), else
 * random tokens with ARC-like lengths (context 24, choices 6 tokens). Random weights: timing only.
 */
export function benchEvaluate(backend: Backend, o: EvaluateBenchOptions = {}) {
  const log = o.log ?? (() => {});
  const nItems = o.items ?? Number(process.env.EVAL_BENCH_ITEMS ?? 8);
  const batchTokens = o.batchTokens ?? 2048;
  const config = gpt2SmallConfig();
  const model = randomModel(config, 7, backend);
  const L = config.nLayers;
  const plans = [Array.from({ length: L }, (_, i) => i), ...generateInterventions(parseInterventionSpecs('delete,swap'), L).map((i) => i.plan)];

  const shared = resolve(packageRoot, '..', 'shared');
  const tokDir = join(shared, 'tokenizers', 'gpt2');
  let requests: ScoredRequest[];
  let source: string;
  if (existsSync(tokDir) && existsSync(join(shared, 'data', 'arc_easy'))) {
    const tok = loadTokenizer(tokDir);
    const s = { bosRule: 'harness' as const, modelType: 'gpt2', maxLength: config.nCtx };
    const enc = makeEncoder(tok, s);
    const items = readTask(TASKS.arc_easy!, join(shared, 'data'), nItems).items;
    requests = items.flatMap((it, i) => it.continuations.map((c, k) => encodeRequest(enc, 50256, it.context, c, s, { item: i, choice: k })));
    source = `first ${nItems} ARC-Easy questions, GPT-2 tokenizer`;
  } else {
    const rng = new SeededRandom(3);
    const tok = () => Math.floor(rng.uniform() * config.vocabSize);
    requests = [];
    for (let i = 0; i < nItems; i++) {
      const ctx = Array.from({ length: 24 }, tok);
      for (let k = 0; k < 4; k++) {
        const cont = Array.from({ length: 6 }, tok);
        const input = [...ctx, ...cont].slice(0, -1);
        requests.push({ item: i, choice: k, contextString: '', continuationString: '', contextTokens: ctx, continuationTokens: cont, input, scoreFrom: input.length - 6, truncated: 0 });
      }
    }
    source = `${nItems} random items (context 24 + 4 choices x 6 tokens)`;
  }
  const tokens = requests.reduce((s, r) => s + r.input.length, 0);
  forward(model, { ids: Int32Array.from(requests[0].input), batch: 1, seq: requests[0].input.length }); // warm-up

  const run = (label: string, strategy: EvalStrategy, pack: boolean) => {
    const stats = { blocks: 0, blockTokens: 0, unembedRows: 0 };
    const units = strategy === 'naive' ? [requests.map((_, i) => i)] : evalUnits(requests, batchTokens, config, pack);
    const t0 = performance.now();
    const scores: UnitScores[] = units.map((u) => scoreUnit(model, plans, u.map((i) => requests[i]), { strategy, stats, pack }));
    const ms = performance.now() - t0;
    // Back to request order, for the comparison.
    const ll = plans.map(() => new Array<number>(requests.length));
    units.forEach((u, k) => u.forEach((ri, j) => plans.forEach((_, p) => (ll[p][ri] = scores[k].ll[p][j]))));
    const itemsPerSecondPerPlan = +(((nItems * plans.length) / ms) * 1000).toFixed(2);
    log(`  ${label}: ${(ms / 1000).toFixed(1)} s, ${itemsPerSecondPerPlan} item-plans/s, ${stats.blocks} block runs over ${stats.blockTokens} token rows, ${stats.unembedRows} unembedded rows`);
    return { ms: +ms.toFixed(0), itemsPerSecondPerPlan, ...stats, units: units.length, ll };
  };
  log(`evaluate bench: ${source}, ${plans.length} plans (baseline + 12 deletions + 11 swaps), ${requests.length} requests, ${tokens} input tokens ...`);
  const fast = run('shared (trie + packed choices)', 'trie', true);
  const triePlain = run('trie, choices in separate rows', 'trie', false);
  const naive = run('naive', 'naive', false);
  let maxAbsDiff = 0;
  for (const other of [fast, triePlain]) other.ll.forEach((row, p) => row.forEach((v, i) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - naive.ll[p][i])))));
  const strip = ({ ll: _ll, ...r }: typeof fast) => r;
  return {
    model: 'gpt2-small (random)', task: 'arc_easy', source, items: nItems, plans: plans.length, requests: requests.length, inputTokens: tokens, batchTokens,
    shared: strip(fast), trieUnpacked: strip(triePlain), naive: strip(naive),
    speedup: +(naive.ms / fast.ms).toFixed(2),
    speedupUnpacked: +(naive.ms / triePlain.ms).toFixed(2),
    maxAbsDiffLl: maxAbsDiff,
    note: 'shared = plan trie per unit of whole items, each item one packed row (context once, choices masked from each other), only scored positions unembedded; trieUnpacked = the same without packing (each choice its own row); naive = one full forward per (item, choice, plan). Same process, measured back to back; the machine may be shared.',
  };
}
