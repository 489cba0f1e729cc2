/**
 * `layerlab evaluate` as a library call: tasks read and encoded the lm-eval way, every plan scored from
 * one pass over the items (engine.ts), results into a resumable run folder:
 * manifest.json, evaluate.json, evaluate.csv and details/<task>.jsonl.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadTokenizer } from '../load/tokenizer.js';
import { defaultPlan, validatePlan } from '../model/forward.js';
import type { Model } from '../model/model.js';
import { toCsv } from '../report/csv.js';
import { EVALUATE_CSV_COLUMNS, EVALUATE_FILE, type EvaluateResult, type EvaluateRow, type EvaluateTaskInfo } from '../results/evaluate-schema.js';
import { ResumableRun } from '../results/resumable-run.js';
import { writeTextAtomic } from '../results/run-dir.js';
import type { Manifest } from '../results/schema.js';
import { generateInterventions, specToString, type InterventionSpec } from '../sweep/interventions.js';
import { killHook } from '../runs/sweep.js';
import { ProgressBar } from '../util/progress.js';
import { provenance, type Provenance } from '../util/provenance.js';
import { modelFingerprint } from '../load/fingerprint.js';
import { evalUnits, scoreUnit, type EvalStrategy } from './engine.js';
import { evaluateChoices } from './choices.js';
import { encodeRequest, makeEncoder, type BosRule, type EncodeSettings, type ScoredRequest } from './requests.js';
import { aggregate, perplexityStderrs, scoreMultipleChoice } from './scoring.js';
import { readTask, type TaskData } from './tasks/registry.js';
import type { TaskDefinition } from './tasks/types.js';

export const EVAL_BATCH_TOKENS = 2048;

export interface EvaluateOptions {
  tasks: TaskDefinition[];
  taskDir: string;
  specs: InterventionSpec[];
  limit?: number;
  bosRule?: BosRule;
  batchTokens?: number;
  prefixCacheMb?: number;
  out: string;
  fresh?: boolean;
  reuseFinished?: boolean;
  command?: string[];
  /** Test and benchmark hooks. */
  strategy?: EvalStrategy;
  bootstrapIters?: number;
  quiet?: boolean;
}

/** A plan scored: the baseline or one intervention. */
interface ScoredPlan {
  name: string;
  kind: EvaluateRow['kind'];
  layer: number | null;
  plan: number[];
}

interface UnitState {
  requests: number[];
  ll: number[][];
  greedy: number[][];
}

export interface EncodedTask extends TaskData {
  requests: ScoredRequest[];
}

/** Every item's requests, in item order then continuation order (lm-eval's request list). */
export function encodeTask(data: TaskData, encode: (t: string) => number[], prefixTokenId: number | undefined, s: EncodeSettings): EncodedTask {
  const requests: ScoredRequest[] = [];
  // The choices of an item encode the same context: remember the last string (tokenizing is the slow part).
  let last: { text: string; ids: number[] } | undefined;
  const cached = (text: string) => {
    if (last?.text !== text) last = { text, ids: encode(text) };
    return last.ids;
  };
  data.items.forEach((it, i) => it.continuations.forEach((cont, k) => requests.push(encodeRequest(cached, prefixTokenId, it.context, cont, s, { item: i, choice: k }))));
  return { ...data, requests };
}

export async function executeEvaluate(model: Model, opts: EvaluateOptions): Promise<{ result: EvaluateResult; dir: string }> {
  const c = model.config, L = c.nLayers;
  const bosRule = opts.bosRule ?? 'harness';
  const batchTokens = opts.batchTokens ?? EVAL_BATCH_TOKENS;
  const interventions = generateInterventions(opts.specs, L);
  const scored: ScoredPlan[] = [
    { name: 'baseline', kind: 'baseline', layer: null, plan: defaultPlan(L) },
    ...interventions.map((iv) => ({ name: iv.name, kind: iv.kind, layer: iv.layer, plan: iv.plan })),
  ];
  // Distinct plans run once; scored plans map onto them.
  const unique: number[][] = [];
  const uniqueIndex = new Map<string, number>();
  const planOf = scored.map((s) => {
    validatePlan(s.plan, L);
    const k = s.plan.join(',');
    if (!uniqueIndex.has(k)) {
      uniqueIndex.set(k, unique.length);
      unique.push(s.plan);
    }
    return uniqueIndex.get(k)!;
  });

  const tok = loadTokenizer(model.source.dir, c);
  const settings: EncodeSettings = { bosRule, modelType: c.modelType, maxLength: c.nCtx };
  const encode = makeEncoder(tok, settings);
  const prefixTokenId = tok.bosTokenId ?? tok.eosTokenId;
  const tasks = opts.tasks.map((t) => encodeTask(readTask(t, opts.taskDir, opts.limit), encode, prefixTokenId, settings));

  const prov = provenance(model);
  const choices = evaluateChoices({ bosRule, maxLength: settings.maxLength, prefixTokenId, batchTokens, prefixCacheMb: opts.prefixCacheMb ?? 512, limit: opts.limit, strategy: opts.strategy ?? 'trie', bootstrapIters: opts.bootstrapIters ?? 100_000 });
  const key = {
    command: 'evaluate', model: prov.model, modelDir: prov.model_dir, modelCommit: prov.model_commit, tasks: tasks.map((t) => ({ task: t.task.name, sha256: t.sha256 })),
    limit: opts.limit, bosRule, batchTokens, plans: unique, strategy: opts.strategy ?? 'trie', bootstrapIters: opts.bootstrapIters ?? 100_000,
    modelDigest: modelFingerprint(model.source.dir), ...(prov.dtype === 'bf16' ? { dtype: prov.dtype } : {}),
  };
  const run = ResumableRun.open(opts.out, key, { fresh: opts.fresh, reuseFinished: opts.reuseFinished });
  const infos: EvaluateTaskInfo[] = tasks.map((t) => ({
    task: t.task.name, output_type: t.task.kind, file: resolve(t.file), sha256: t.sha256, records: t.records, items: t.items.length,
    requests: t.requests.length, truncated_requests: t.requests.filter((r) => r.truncated > 0).length,
  }));
  if (run.finishedBefore) {
    process.stderr.write(`evaluate: ${opts.out} is already complete for this command; kept as it is\n`);
    const { readJson } = await import('../results/run-dir.js');
    return { result: readJson<EvaluateResult>(join(opts.out, EVALUATE_FILE)), dir: opts.out };
  }
  const manifest: Manifest & Record<string, unknown> = {
    kind: 'evaluate', provenance: prov, choices, requested: tasks.map((t) => t.task.name), complete: [],
    command: opts.command ?? process.argv.slice(2), layers: L, tasks: infos, interventions: opts.specs.map(specToString),
    plans: scored.map(({ name, kind, layer, plan }) => ({ name, kind, layer, plan })),
  };
  run.writeResult('manifest.json', manifest);

  const unitsOf = tasks.map((t) => evalUnits(t.requests, batchTokens, model.config));
  const total = tasks.reduce((s, t) => s + t.items.length, 0) * unique.length;
  let done = 0;
  const bar = opts.quiet ? undefined : new ProgressBar('evaluate', 'item x plan scores');
  const afterSave = killHook();
  const stats = { blocks: 0, blockTokens: 0, unembedRows: 0 };
  const rows: EvaluateRow[] = [];
  mkdirSync(join(opts.out, 'details'), { recursive: true });
  run.track('details');

  tasks.forEach((t, ti) => {
    const ll = unique.map(() => new Array<number>(t.requests.length).fill(NaN));
    const greedy = unique.map(() => new Array<number>(t.requests.length).fill(0));
    const units = unitsOf[ti];
    units.forEach((unit, u) => {
      const name = `${t.task.name}-${u}`;
      let st = run.loadState<UnitState>(name);
      if (!st || JSON.stringify(st.requests) !== JSON.stringify(unit)) {
        const res = scoreUnit(model, unique, unit.map((i) => t.requests[i]), { strategy: opts.strategy, prefixCacheBytes: (opts.prefixCacheMb ?? 512) * 2 ** 20, stats });
        st = { requests: unit, ...res };
        run.saveState(name, st);
        afterSave();
      }
      unit.forEach((ri, k) => unique.forEach((_, p) => {
        ll[p][ri] = st!.ll[p][k];
        greedy[p][ri] = st!.greedy[p][k];
      }));
      done += new Set(unit.map((i) => t.requests[i].item)).size * unique.length;
      bar?.update({ done, total, detail: `${t.task.name} unit ${u + 1}/${units.length}` });
    });
    if (t.task.kind === 'loglikelihood' && !opts.quiet)
      process.stderr.write(`evaluate: ${t.task.name} perplexity stderr: lm-eval's bootstrap, ${(opts.bootstrapIters ?? 100_000).toLocaleString('en-US')} resamples of ${t.items.length} documents for ${unique.length} plans ...\n`);
    rows.push(...taskRows(t, scored, planOf, ll, greedy, L, opts.bootstrapIters));
    writeDetails(join(opts.out, 'details', `${t.task.name}.jsonl`), t, scored, planOf, ll, greedy, prov);
    run.track(join('details', `${t.task.name}.jsonl`));
    (manifest.complete as string[]).push(t.task.name);
    run.writeResult('manifest.json', manifest);
  });

  const result: EvaluateResult = { provenance: prov, layers: L, tasks: infos, choices, rows };
  run.writeResult(EVALUATE_FILE, result);
  writeTextAtomic(join(opts.out, 'evaluate.csv'), evaluateCsv(rows, prov));
  run.track('evaluate.csv');
  run.writeResult('manifest.json', { ...manifest, finished_at: new Date().toISOString(), work: { blocks: stats.blocks, block_tokens: stats.blockTokens, unembed_rows: stats.unembedRows } });
  run.finish();
  if (!opts.quiet) {
    const base = rows.filter((r) => r.kind === 'baseline').map((r) => `${r.task} acc ${r.acc?.toFixed(4)}${r.perplexity !== null ? ` ppl ${r.perplexity.toFixed(2)}` : ''}`);
    process.stderr.write(`wrote ${opts.out}/evaluate.json, evaluate.csv and details/: ${scored.length} plans x ${tasks.length} tasks (baseline: ${base.join(', ')})\n`);
  }
  return { result, dir: opts.out };
}

/** Per-document values of one plan, in document order. */
function docValues(t: EncodedTask, ll: number[], greedy: number[]) {
  const byItem = t.items.map(() => [] as number[]);
  t.requests.forEach((r, i) => (byItem[r.item][r.choice] = i));
  if (t.task.kind === 'loglikelihood') return { acc: byItem.map((rs) => greedy[rs[0]]), ll: byItem.map((rs) => ll[rs[0]]), outcomes: undefined };
  const outcomes = t.items.map((it, i) => scoreMultipleChoice(byItem[i].map((r) => ll[r]), it.choices!, it.gold!));
  return { acc: outcomes.map((o) => o.acc), accNorm: outcomes.map((o) => o.accNorm), outcomes };
}

function taskRows(t: EncodedTask, scored: ScoredPlan[], planOf: number[], ll: number[][], greedy: number[][], L: number, iters?: number): EvaluateRow[] {
  const values = ll.map((l, p) => docValues(t, l, greedy[p]));
  const pplErr = t.task.kind === 'loglikelihood' ? perplexityStderrs(values.map((v) => v.ll!), iters) : values.map(() => null);
  return scored.map((s, i) => {
    const p = planOf[i];
    const m = aggregate(t.task.kind, values[p], pplErr[p]);
    return { task: t.task.name, kind: s.kind, layer: s.layer, relative_depth: s.layer === null || s.layer < 0 ? null : L > 1 ? s.layer / (L - 1) : 0, name: s.name, plan: s.plan, ...m };
  });
}

/**
 * details/<task>.jsonl: a header line {provenance, task, plans}, then one line per item: id, the context
 * and continuation strings scored (after the trailing-whitespace move) and their token ids, gold, each
 * choice's summed log-likelihood and greedy flag under the baseline, and under every plan the prediction
 * (pred, pred_norm and the lls for multiple choice; ll and greedy for loglikelihood).
 */
function writeDetails(path: string, t: EncodedTask, scored: ScoredPlan[], planOf: number[], ll: number[][], greedy: number[][], prov: Provenance): void {
  const lines = [JSON.stringify({ provenance: prov, task: t.task.name, output_type: t.task.kind, file: resolve(t.file), sha256: t.sha256, plans: scored.map(({ name, kind, layer, plan }) => ({ name, kind, layer, plan })) })];
  const byItem = t.items.map(() => [] as number[]);
  t.requests.forEach((r, i) => (byItem[r.item][r.choice] = i));
  const values = ll.map((l, p) => docValues(t, l, greedy[p]));
  const base = planOf[0];
  t.items.forEach((it, i) => {
    const reqs = byItem[i].map((r) => t.requests[r]);
    const predictions: Record<string, unknown> = {};
    scored.forEach((s, k) => {
      const p = planOf[k];
      const o = values[p].outcomes?.[i];
      predictions[s.name] = o
        ? { pred: o.pred, pred_norm: o.predNorm, lls: byItem[i].map((r) => ll[p][r]) }
        : { ll: ll[p][byItem[i][0]], greedy: greedy[p][byItem[i][0]] === 1 };
    });
    lines.push(JSON.stringify({
      id: it.id,
      context: reqs[0].contextString,
      continuations: reqs.map((r) => r.continuationString),
      context_tokens: reqs[0].contextTokens,
      continuation_tokens: reqs.map((r) => r.continuationTokens),
      ...(it.gold !== undefined ? { gold: it.gold } : {}),
      truncated: reqs.some((r) => r.truncated > 0),
      choices: byItem[i].map((r) => ({ ll: ll[base][r], greedy: greedy[base][r] === 1 })),
      predictions,
    }));
  });
  writeTextAtomic(path, lines.join('\n') + '\n');
}

/** evaluate.csv: one row per (task, plan), the provenance's key fields as the last columns of every row. */
export function evaluateCsv(rows: EvaluateRow[], prov: Provenance): string {
  const cell = (v: unknown): string | number | null => (Array.isArray(v) ? v.join(' ') : v === null || v === undefined ? null : typeof v === 'number' ? (Number.isFinite(v) ? v : null) : String(v));
  const provCols = { model: prov.model, model_commit: prov.model_commit ?? null, compute_dtype: prov.compute_dtype, layerlab_version: prov.layerlab_version, git_commit: prov.git_commit };
  const table = {
    columns: [...EVALUATE_CSV_COLUMNS, ...Object.keys(provCols)],
    rows: rows.map((r) => [...EVALUATE_CSV_COLUMNS.map((c) => cell(r[c])), ...Object.values(provCols)]),
  };
  return toCsv(table);
}
