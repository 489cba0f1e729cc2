import { DEFAULT_PROTOCOL, type Protocol } from '../protocol/protocol.js';
import { protocolManifest } from '../protocol/choices.js';
import type { Sigma } from '../stats/stat.js';
import { join, resolve } from 'node:path';
import { runStages } from './stages.js';
import { memoizedEncoder } from '../data/token-cache.js';
import { readDocuments } from '../data/documents.js';
import { modelFingerprint } from '../load/fingerprint.js';
import { loadTokenizer, requireBos } from '../load/tokenizer.js';
import type { Model } from '../model/model.js';
import { ResumableRun } from '../results/resumable-run.js';
import type { Manifest } from '../results/schema.js';
import { MANIFEST_FILE } from '../results/run-files.js';
import type { InterventionSpec } from '../sweep/interventions.js';
import { executeSweep } from './sweep.js';
import { executeEvaluate } from '../evaluate/run-evaluate.js';
import type { TaskDefinition } from '../evaluate/tasks/types.js';
import { LayerlabError } from '../util/errors.js';
import { provenance } from '../util/provenance.js';
import type { JobRunner } from './job-runner.js';

export interface PaperOptions {
  /** The authors' protocol or layerlab's (default 'layerlab'); see src/protocol/. */
  protocol?: Protocol;
  data: string;
  out: string;
  textField?: string;
  maxTokens?: number;
  maxDocs?: number;
  /** Use only the first N tokens of each document (default: all; under `paper`, seq_len − 1). */
  maxDocTokens?: number;
  /** Error bands of the report (default: the protocol's, std under paper, sem under layerlab). */
  sigma?: Sigma;
  /** Documents per data shard (one job each) for the sweep and the stage analyses; default DEFAULT_SHARD_DOCS (src/runs/shards.ts). */
  shardDocs?: number;
  seqLen?: number;
  /** Default: delete, swap and repeat:5 (repeat:L for models with fewer than 5 blocks). */
  interventions?: InterventionSpec[];
  wicDir?: string;
  batchMb?: number;
  prefixCacheMb?: number;
  fresh?: boolean;
  /** Skip the PNG files of the report (SVG and CSV are still written). */
  png?: boolean;
  command?: string[];
  /** Benchmarks under every plan (layerlab evaluate) into DIR/evaluate; omitted: no benchmarks. */
  tasks?: TaskDefinition[];
  taskDir?: string;
  /** The first N documents of each task (quick runs); default all. */
  taskLimit?: number;
  /** Where the sweep's and stage analyses' jobs run (default in-process; `--queue` gives the coordinator). */
  runner?: JobRunner;
  /** Test hook: called after each phase. */
  afterPhase?: (phase: 'sweep' | 'stages' | 'evaluate' | 'report') => void;
}

export interface PaperOutcome {
  dir: string;
  report: string;
  warnings: string[];
  /** The run's three findings, one sentence each (src/report/findings.ts). */
  findings: string[];
}

/**
 * The whole paper for one model: robustness sweeps (Fig. 5a and layer repeat), every stage analysis
 * (Figs. 1, 5b-c, 6, 7, 8, 10-12) with stage boundaries from the sweep's deletion KL, and the report.
 * Layout: DIR/sweep, DIR/stages, DIR/report.html and DIR/report-figures/. Finished parts are never
 * redone: re-running the same command after a kill continues with the first unfinished part, and a
 * finished run is kept (only the report is rebuilt); --fresh recomputes everything.
 */
export async function runPaper(model: Model, opts: PaperOptions): Promise<PaperOutcome> {
  const L = model.config.nLayers;
  const protocol = opts.protocol ?? DEFAULT_PROTOCOL;
  const specs = opts.interventions ?? [{ kind: 'delete' }, { kind: 'swap' }, { kind: 'repeat', k: Math.min(5, L) }];
  // The data is read once and each document tokenized once for the whole run (sweep and stages).
  const corpus = await readDocuments(opts.data, { textField: opts.textField, maxDocs: opts.maxDocs });
  const dataHash = { sha256: corpus.sha256 };
  const tokenizer = loadTokenizer(model.source.dir, model.config);
  const bos = requireBos(tokenizer, model.source.dir);
  const encoder = memoizedEncoder(tokenizer);
  const prov = provenance(model);
  const key = {
    command: 'paper', model: prov.model, modelDir: prov.model_dir, modelCommit: prov.model_commit, modelDigest: modelFingerprint(model.source.dir), data: dataHash.sha256,
    textField: opts.textField ?? 'text', maxTokens: opts.maxTokens, maxDocs: opts.maxDocs, ...(opts.shardDocs ? { shardDocs: opts.shardDocs } : {}), seqLen: opts.seqLen, specs, wic: opts.wicDir ? resolve(opts.wicDir) : null,
    ...(opts.tasks?.length ? { tasks: opts.tasks.map((t) => t.name), taskDir: resolve(opts.taskDir ?? ''), taskLimit: opts.taskLimit } : {}),
    ...(prov.dtype === 'bf16' ? { dtype: prov.dtype } : {}),
    ...(protocol !== DEFAULT_PROTOCOL ? { protocol } : {}), ...(opts.maxDocTokens !== undefined ? { maxDocTokens: opts.maxDocTokens } : {}),
  };
  const run = ResumableRun.open(opts.out, key, { fresh: opts.fresh, reuseFinished: true });
  // A fresh top-level run recomputes its parts; a resumed one keeps the parts that finished.
  const reuse = run.resumed;
  for (const f of ['sweep', 'stages', 'evaluate', 'report.html', 'report-figures']) run.track(f);
  const withTasks = !!opts.tasks?.length;
  const steps = withTasks ? 4 : 3;
  if (withTasks && !opts.taskDir) throw new LayerlabError('--tasks needs --task-dir DIR (the folder with the task files)');
  const command = opts.command ?? process.argv.slice(2);
  const manifest: Manifest = {
    kind: 'paper', provenance: prov, choices: { protocol, interventions: specs, parts: 'sweep/ (robustness sweep), stages/ (stage analyses), report.html' }, ...protocolManifest(protocol),
    requested: ['sweep', 'stages', ...(withTasks ? ['evaluate'] : [])], complete: [], command,
  };

  if (!run.finishedBefore) {
    run.writeResult(MANIFEST_FILE, manifest);
    process.stderr.write(`paper [1/${steps}] sweep: ${specs.map((s) => s.kind).join(', ')} over every layer\n`);
    await executeSweep(model, {
      data: opts.data, specs, textField: opts.textField ?? 'text', maxDocs: opts.maxDocs, maxTokens: opts.maxTokens, seqLen: opts.seqLen, shardDocs: opts.shardDocs, protocol, maxDocTokens: opts.maxDocTokens,
      batchMb: opts.batchMb ?? 1024, prefixCacheMb: opts.prefixCacheMb ?? 512, out: join(opts.out, 'sweep'), fresh: !reuse, reuseFinished: reuse, command,
      corpus, encoder, runner: opts.runner,
    });
    manifest.complete.push('sweep');
    run.writeResult(MANIFEST_FILE, manifest);
    opts.afterPhase?.('sweep');

    process.stderr.write(`paper [2/${steps}] stage analyses\n`);
    await runStages(
      { model, tokenizer, bos, corpus, dataFile: opts.data, outDir: join(opts.out, 'stages'), command, encoder },
      { protocol, maxDocTokens: opts.maxDocTokens, maxTokens: opts.maxTokens, maxDocs: opts.maxDocs, seqLen: opts.seqLen, shardDocs: opts.shardDocs, wicDir: opts.wicDir, sweepDir: join(opts.out, 'sweep'), fresh: !reuse, reuseFinished: reuse, runner: opts.runner },
    );
    manifest.complete.push('stages');
    run.writeResult(MANIFEST_FILE, manifest);
    opts.afterPhase?.('stages');

    if (withTasks) {
      process.stderr.write(`paper [3/4] benchmarks: ${opts.tasks!.map((t) => t.name).join(', ')} under every plan\n`);
      await executeEvaluate(model, {
        tasks: opts.tasks!, taskDir: opts.taskDir!, limit: opts.taskLimit, specs, out: join(opts.out, 'evaluate'), fresh: !reuse, reuseFinished: reuse, command,
      });
      manifest.complete.push('evaluate');
      opts.afterPhase?.('evaluate');
    }
    manifest.finished_at = new Date().toISOString();
    run.writeResult(MANIFEST_FILE, manifest);
    run.finish();
  } else {
    process.stderr.write(`paper: ${opts.out} already holds the finished results of this command (use --fresh to recompute); rebuilding the report\n`);
  }

  process.stderr.write(`paper [${withTasks ? '4/4' : '3/3'}] report\n`);
  const { buildReport } = await import('../report/build.js');
  const { runFindings } = await import('../report/findings.js');
  const report = join(opts.out, 'report.html');
  const r = await buildReport({ dirs: [opts.out], out: report, png: opts.png, sigma: opts.sigma, command: `layerlab ${command.join(' ')}` });
  opts.afterPhase?.('report');
  const run0 = r.runs.find((x) => x.plotted);
  return { dir: opts.out, report, warnings: r.warnings, findings: run0 ? runFindings(run0) : [] };
}
