/**
 * The sweep engine: runs the baseline model and every intervened plan over a corpus, batch by batch,
 * and folds per-token metrics into streaming accumulators.
 *
 * Strategies (all give the same numbers; 'trie' is the fast one):
 * - 'trie'      : per batch, one walk over the trie of plans (plan-trie.ts). A plan continues from the
 *                 residual stream of its longest prefix shared with plans already run; residuals of trie
 *                 nodes that still have work ahead are cached up to `prefixCacheBytes` and recomputed from
 *                 the nearest cached ancestor beyond it (0 bytes = every plan recomputed from scratch).
 * - 'recompute' : per batch, the baseline once, then every plan from the embedding (reference/benchmark).
 * - 'paper'     : the authors' method: one window at a time, and the original model rerun for every plan.
 *
 * Order of accumulation: batches in packBatches order, rows in order within a batch; every plan has its
 * own accumulators, so the order in which plans run within a batch does not matter. State is handed to
 * `onBatch` after each batch (all plans of it), which makes resuming exact: a resumed run continues at
 * the next batch and adds the same values in the same order as an uninterrupted one.
 */
import { Executor, type ModelLike } from '../model/executor.js';
import { defaultPlan, runPlan, validatePlan, type BlockFn } from '../model/forward.js';
import { batchWindows, type PaddedBatch } from '../model/batches.js';
import { LayerlabError } from '../util/errors.js';
import { BaselineAccumulator, BaselineBatch, PlanAccumulator, type BatchLayout } from './metrics.js';
import { executionOrder, PlanTrie, type TrieNode } from './plan-trie.js';
import { LOGIT_CHUNK_BYTES, logitChunkRows } from '../model/readout.js';
import { sweepMetricsAnalysis } from './metrics-analysis.js';

export type SweepStrategy = 'trie' | 'recompute' | 'paper';

export interface SweepData {
  /** Token windows, each starting with BOS. */
  windows: Int32Array[];
  /** Document number of each window (per-document standard errors). */
  docIndex: number[];
}

export interface SweepProgress {
  batchesDone: number;
  batches: number;
  planRunsDone: number;
  planRuns: number;
  tokensDone: number;
  tokens: number;
}

export interface SweepState {
  version: 1;
  plans: number[][];
  batches: number;
  batches_done: number;
  tokens_done: number;
  baseline: ReturnType<BaselineAccumulator['toJSON']>;
  accumulators: ReturnType<PlanAccumulator['toJSON']>[];
}

export interface SweepEngineOptions {
  /** Tokens (rows, BOS included) per batch; at least one window per batch. Ignored by 'paper'. */
  maxBatchTokens: number;
  /** Memory for cached residual streams of shared prefixes ('trie'); default 512 MiB. */
  prefixCacheBytes?: number;
  /** Entropy with probabilities clamped at this floor, as the authors' code (`--protocol paper`); default exact. */
  entropyFloor?: number;
  /** Memory for one chunk of intervened logits (rows x vocab floats); default 128 MiB. */
  logitsChunkBytes?: number;
  strategy?: SweepStrategy;
  /** Resume from this state (from onBatch of an earlier run with the same plans and data). */
  state?: SweepState;
  /** Called after every batch with the complete state. */
  onBatch?: (state: SweepState) => void;
  onProgress?: (p: SweepProgress) => void;
}

export interface SweepOutcome {
  baseline: BaselineAccumulator;
  /** One per input plan (duplicated plans share one accumulator). */
  plans: PlanAccumulator[];
  /** Non-BOS tokens of the corpus. */
  tokens: number;
  batches: number;
  /** Work done in this call (not in earlier resumed runs). */
  stats: { blocks: number; unembedRows: number; batchesRun: number; ms: number };
}

export type SweepBatch = PaddedBatch;

/**
 * Batches the engine runs, in order (deterministic for the same windows and maxBatchTokens): windows of
 * at least 3/4 of the longest share a batch, right-padded (src/model/batches.ts); 'paper' runs one window
 * per batch.
 */
export function sweepBatches(data: SweepData, maxBatchTokens: number, strategy: SweepStrategy = 'trie'): SweepBatch[] {
  return batchWindows(data.windows, maxBatchTokens, { minFill: 0.75, oneWindow: strategy === 'paper' });
}

export function runSweep(model: ModelLike, plans: readonly (readonly number[])[], data: SweepData, opts: SweepEngineOptions): SweepOutcome {
  const started = performance.now();
  const c = model.config, V = c.vocabSize, D = c.dModel, be = model.backend;
  const strategy = opts.strategy ?? 'trie';
  if (data.windows.length !== data.docIndex.length) throw new Error('sweep: windows and docIndex differ in length');
  if (data.windows.length === 0) throw new LayerlabError('no token windows to run: the data gave no tokens');
  for (const w of data.windows) if (w.length < 2) throw new LayerlabError('every window needs BOS plus at least one token');
  const baselinePlan = defaultPlan(c.nLayers);

  // Distinct plans; input plans map onto them.
  const keyOf = (p: readonly number[]) => p.join(',');
  const unique: number[][] = [];
  const indexOf = new Map<string, number>();
  const inputToUnique = plans.map((p) => {
    validatePlan(p, c.nLayers);
    const k = keyOf(p);
    if (!indexOf.has(k)) {
      indexOf.set(k, unique.length);
      unique.push([...p]);
    }
    return indexOf.get(k)!;
  });

  const batches = sweepBatches(data, opts.maxBatchTokens, strategy);
  const tokens = data.windows.reduce((s, w) => s + w.length - 1, 0);
  // The per-plan metrics are an analysis under the contract (metrics-analysis.ts): the engine only runs plans.
  const metrics = sweepMetricsAnalysis;
  let state = metrics.init(unique.length);
  let batchesDone = 0, tokensDone = 0;
  if (opts.state) {
    const s = opts.state;
    if (s.version !== 1 || s.batches !== batches.length || JSON.stringify(s.plans) !== JSON.stringify(unique) || s.accumulators.length !== unique.length)
      throw new LayerlabError('saved sweep state does not match this sweep (plans or batches differ); rerun with a fresh output folder');
    state = { baseline: BaselineAccumulator.fromJSON(s.baseline), plans: s.accumulators.map((a) => PlanAccumulator.fromJSON(a)) };
    batchesDone = s.batches_done;
    tokensDone = s.tokens_done;
  }

  const stats = { blocks: 0, unembedRows: 0, batchesRun: 0, ms: 0 };
  const progress = { batchesDone, batches: batches.length, planRunsDone: batchesDone * unique.length, planRuns: batches.length * unique.length, tokensDone, tokens };
  opts.onProgress?.({ ...progress });
  const chunkBytes = opts.logitsChunkBytes ?? LOGIT_CHUNK_BYTES;
  let baseBuf = new Float32Array(0);
  let chunkBuf = new Float32Array(0);
  // One executor (and its scratch buffers) while consecutive batches have the same shape.
  let executor: Executor | undefined;
  const executorFor = (B: number, T: number) => {
    if (!executor || executor.batch !== B || executor.seq !== T) executor = new Executor(model, B, T);
    return executor;
  };

  for (let bi = batchesDone; bi < batches.length; bi++) {
    const batch = batches[bi];
    const layout: BatchLayout = { ids: batch.ids, batch: batch.batch, seq: batch.seq, windowDoc: batch.windowIndex.map((w) => data.docIndex[w]), lengths: batch.lengths, entropyFloor: opts.entropyFloor };
    const ex = executorFor(batch.batch, batch.seq);
    const rows = ex.rows;
    const chunkRows = Math.min(rows, logitChunkRows(V, chunkBytes));
    if (chunkBuf.length < chunkRows * V) chunkBuf = new Float32Array(chunkRows * V);
    const chunk = chunkBuf;
    const block = (r: Float32Array, layer: number, slot: number) => {
      stats.blocks++;
      return ex.block(r, layer, slot);
    };
    const planDone = () => {
      progress.planRunsDone++;
      // The final count is reported once the batch is accounted for (below).
      if (progress.planRunsDone < progress.planRuns) opts.onProgress?.({ ...progress });
    };
    const baselineOf = (resid: Float32Array): BaselineBatch => {
      // Chunked like the plans' logits (one huge GEMM is slower), into a buffer reused across batches.
      if (baseBuf.length < rows * V) baseBuf = new Float32Array(rows * V);
      const logits = baseBuf.subarray(0, rows * V);
      const normed = ex.finalNorm(resid);
      for (let r0 = 0; r0 < rows; r0 += chunkRows) {
        const n = Math.min(chunkRows, rows - r0);
        ex.unembed(normed.subarray(r0 * D, (r0 + n) * D), n, logits.subarray(r0 * V, (r0 + n) * V));
      }
      stats.unembedRows += rows;
      return new BaselineBatch(be, logits, layout, V);
    };
    /** Metrics of the plans `targets` whose final residual stream is `resid`. */
    const evaluate = (resid: Float32Array, base: BaselineBatch, targets: number[]) => {
      if (targets.length === 0) return;
      const normed = ex.finalNorm(resid);
      for (let r0 = 0; r0 < rows; r0 += chunkRows) {
        const n = Math.min(chunkRows, rows - r0);
        const logits = ex.unembed(normed.subarray(r0 * D, (r0 + n) * D), n, chunk.subarray(0, n * V));
        stats.unembedRows += n;
        for (const i of targets) metrics.addRows(state, i, base, logits, r0, n);
      }
      for (let k = 0; k < targets.length; k++) planDone();
    };
    const run = (plan: readonly number[]) => runPlan(ex, ex.embed(batch.ids), plan, 0, block);
    const identity = new Set(unique.map((p, i) => (keyOf(p) === keyOf(baselinePlan) ? i : -1)).filter((i) => i >= 0));
    const addIdentity = (base: BaselineBatch) => {
      for (const i of identity) metrics.addRows(state, i, base, base.logits, 0, rows);
      for (let k = 0; k < identity.size; k++) planDone();
    };

    if (strategy === 'trie') {
      runTrieBatch<BaselineBatch>(new PlanTrie(unique, baselinePlan), ex, batch.ids, opts.prefixCacheBytes ?? 512 * 2 ** 20, block, (node, resid, base) => {
        if (base) {
          evaluate(resid, base, node.terminals);
          return base;
        }
        const b = baselineOf(resid);
        metrics.addBaseline(state, b);
        addIdentity(b);
        evaluate(resid, b, node.terminals.filter((i) => !identity.has(i)));
        return b;
      });
    } else if (strategy === 'recompute') {
      const base = baselineOf(run(baselinePlan));
      metrics.addBaseline(state, base);
      addIdentity(base);
      unique.forEach((p, i) => {
        if (!identity.has(i)) evaluate(run(p), base, [i]);
      });
    } else {
      // The paper's method: the original model is rerun for every plan (and the plan from scratch).
      unique.forEach((p, i) => {
        const base = baselineOf(run(baselinePlan));
        if (i === 0) metrics.addBaseline(state, base);
        if (identity.has(i)) addIdentity(base);
        else evaluate(run(p), base, [i]);
      });
    }

    batchesDone++;
    tokensDone += batch.lengths.reduce((s, n) => s + n - 1, 0);
    stats.batchesRun++;
    progress.batchesDone = batchesDone;
    progress.tokensDone = tokensDone;
    opts.onProgress?.({ ...progress });
    opts.onBatch?.({
      version: 1, plans: unique, batches: batches.length, batches_done: batchesDone, tokens_done: tokensDone,
      baseline: state.baseline.toJSON(), accumulators: state.plans.map((a) => a.toJSON()),
    });
  }
  stats.ms = performance.now() - started;
  return { baseline: state.baseline, plans: inputToUnique.map((u) => state.plans[u]), tokens, batches: batches.length, stats };
}

/**
 * One batch through the trie, depth first. `onNode` evaluates the plans ending at a node given its
 * residual stream; at the baseline node it is called with `base` undefined and returns the baseline
 * (every other call gets it; the sweep's is the baseline logits, `layerlab evaluate` needs none). The
 * walk visits the baseline path first (executionOrder).
 *
 * Memory: a node's residual is kept (in `cache`, bounded by `cacheBytes`) only while the node has work
 * left after the current child; otherwise it is dropped and, if needed again, recomputed from the
 * nearest cached ancestor (or the embedding). Live residuals: the cache plus at most two working ones.
 */
export function runTrieBatch<Base>(
  trie: PlanTrie,
  ex: Executor,
  ids: Int32Array,
  cacheBytes: number,
  block: BlockFn,
  onNode: (node: TrieNode, resid: Float32Array, base: Base | undefined) => Base,
): void {
  const capacity = Math.floor(cacheBytes / (ex.rows * ex.model.config.dModel * 4));
  const cache = new Map<number, Float32Array>();
  let base: Base | undefined;
  /** A node's residual: its plan prefix run from the nearest cached ancestor (or the embedding). */
  const residOf = (node: TrieNode): Float32Array => {
    const path: number[] = [];
    let from: TrieNode = node;
    while (!cache.has(from.id) && from.parent) {
      path.push(from.block);
      from = from.parent;
    }
    return runPlan(ex, cache.get(from.id) ?? ex.embed(ids), path.reverse(), from.depth, block);
  };

  // Residuals are handed down in a box the callee empties, so no caller frame keeps a reference to them.
  const visit = (node: TrieNode, box: { r?: Float32Array }): void => {
    let resid = box.r;
    box.r = undefined;
    const steps = executionOrder(node, trie.baselineNode);
    let kept = false;
    for (let i = 0; i < steps.length; i++) {
      const last = i === steps.length - 1;
      const step = steps[i];
      if (step.kind === 'eval') {
        const r = resid ?? residOf(node);
        if (node === trie.baselineNode) base = onNode(node, r, undefined);
        else onNode(node, r, base);
        resid = r;
        continue;
      }
      // In a function of its own so that no reference to this node's residual stays live in this frame
      // while the child's subtree runs (unless it is cached).
      const childBox = { r: (() => {
        const r = resid ?? residOf(node);
        if (!last && !kept && cache.size < capacity) {
          cache.set(node.id, r);
          kept = true;
        }
        const out = block(r, step.child.block, step.child.depth - 1);
        if (last && kept) {
          cache.delete(node.id);
          kept = false;
        }
        return out;
      })() };
      resid = undefined;
      visit(step.child, childBox);
    }
    if (kept) cache.delete(node.id);
  };
  visit(trie.root, { r: ex.embed(ids) });
}
