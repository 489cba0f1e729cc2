import type { Command } from 'commander';
import { DEFAULT_SHARD_DOCS } from '../../runs/shards.js';
import { runPaper } from '../../runs/paper.js';
import { BUNDLED } from '../../load/bundled.js';
import { parseInterventionSpecs } from '../../sweep/interventions.js';
import { parseTasks } from '../../evaluate/tasks/registry.js';
import { openModel } from '../open-model.js';
import { checkOutputs, type OutTarget } from '../out-path.js';
import { resolveTaskDir } from './evaluate.js';
import { dtypeOption } from '../dtype-option.js';
import { protocolOption } from '../protocol-option.js';
import { parseProtocol } from '../../protocol/protocol.js';
import { parseSigma } from '../args.js';
import { queueOption, queueUrl, withQueueRunner } from '../queue-option.js';
import { parsePositiveInt, runCommand } from '../run-command.js';

interface PaperCliOptions {
  model?: string;
  data?: string;
  out: string;
  textField: string;
  maxTokens?: string;
  maxDocs?: string;
  shardDocs?: string;
  seqLen?: string;
  interventions?: string;
  wic?: string;
  tasks?: string;
  taskDir?: string;
  taskLimit?: string;
  png: boolean;
  fresh?: boolean;
  dtype: string;
  protocol: string;
  maxDocTokens?: string;
  sigma?: string;
  queue?: string;
}

export function registerPaper(program: Command): void {
  queueOption(protocolOption(dtypeOption(program
    .command('paper'))))
    .description("one command from a model to the paper's figures: robustness sweeps, every stage analysis, and the report")
    .option('--model <dir|org/name>', `model folder or Hugging Face id (local cache first, then the Hub); default: the bundled ${BUNDLED.name} model`)
    .option('--data <file>', 'corpus: plain text (documents separated by blank lines), .jsonl or .parquet with a text field; default: the bundled corpus')
    .requiredOption('--out <dir>', 'output folder: sweep/, stages/, report.html, report-figures/')
    .option('--max-tokens <n>', `stop after n corpus tokens (BOS not counted); the paper used about 1M; default with the bundled corpus: ${BUNDLED.maxTokens}`)
    .option('--max-docs <n>', 'use only the first n documents')
    .option('--seq-len <T>', "window length including BOS (default: the model's context, capped)")
    .option('--text-field <name>', 'JSONL field / parquet column with the text', 'text')
    .option('--interventions <list>', 'sweep interventions (default delete,swap,repeat:5)')
    .option('--wic <dir>', 'WiC dataset folder for the WiC probe (without it the probe is recorded as skipped)')
    .option('--tasks <list>', 'also score lm-eval benchmarks under every plan (lambada_openai,arc_easy,hellaswag) into DIR/evaluate (paper Figs. 15-16, 24)')
    .option('--task-dir <dir>', 'folder with the task files for --tasks (see docs/evaluate.md); default $LAYERLAB_TASK_DIR')
    .option('--task-limit <n>', 'score only the first n documents of each task (as lm-eval --limit)')
    .option('--no-png', 'skip the PNG files of the report')
    .option('--sigma <sem|std>', "error bands of the report's figures: sem (standard error across documents) or std (standard deviation across documents); default: the protocol's (std under paper, sem under layerlab)")
    .option('--shard-docs <n>', `documents per data shard, one job each (default ${DEFAULT_SHARD_DOCS}, the same with or without --queue); results are merged in shard order`)
    .option('--fresh', 'recompute everything even if --out holds results of the same command')
    .action(
      runCommand(async (o: PaperCliOptions) => {
        const num = (v: string | undefined, flag: string) => (v === undefined ? undefined : parsePositiveInt(v, flag));
        const protocol = parseProtocol(o.protocol);
        const sigma = o.sigma === undefined ? undefined : parseSigma(o.sigma);
        // Without --model / --data the bundled model and corpus run (a first look with nothing downloaded).
        const data = o.data ?? BUNDLED.corpus;
        const maxTokens = num(o.maxTokens, '--max-tokens') ?? (o.data === undefined ? BUNDLED.maxTokens : undefined);
        const outs: OutTarget[] = [{ path: o.out, kind: 'dir' }];
        checkOutputs(outs, [o.model, data, o.wic, o.taskDir]);
        const interventions = o.interventions === undefined ? undefined : parseInterventionSpecs(o.interventions);
        if (o.model === undefined || o.data === undefined)
          process.stderr.write(`paper: using the bundled ${[o.model === undefined ? `${BUNDLED.name} model` : '', o.data === undefined ? 'corpus (King James Bible, held-out chapters)' : ''].filter(Boolean).join(' and ')} (see assets/ASSETS.md)\n`);
        const queue = queueUrl(o.queue);
        const model = await openModel(o.model ?? BUNDLED.modelDir, outs, { dtype: o.dtype });
        const r = await withQueueRunner(queue, model, (runner) => runPaper(model, {
          runner,
          protocol, sigma, maxDocTokens: num(o.maxDocTokens, '--max-doc-tokens'), data, out: o.out, textField: o.textField, maxTokens, maxDocs: num(o.maxDocs, '--max-docs'), shardDocs: num(o.shardDocs, '--shard-docs'),
          seqLen: num(o.seqLen, '--seq-len'), interventions,
          wicDir: o.wic, png: o.png, ...(o.tasks ? { tasks: parseTasks(o.tasks), taskDir: resolveTaskDir(o.taskDir), taskLimit: num(o.taskLimit, '--task-limit') } : {}), fresh: o.fresh, command: process.argv.slice(2),
        }));
        for (const w of r.warnings) process.stderr.write(`layerlab: warning: ${w}\n`);
        process.stderr.write(`figures in ${r.report.replace(/\.html$/, '-figures')}/\n`);
        // The result a newcomer looks for: where the report is, and what it found.
        process.stdout.write(`report: ${r.report}\n${r.findings.map((f) => `- ${f}\n`).join('')}`);
      }),
    );
}
