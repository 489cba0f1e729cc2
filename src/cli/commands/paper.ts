import type { Command } from 'commander';
import { runPaper } from '../../paper/run-paper.js';
import { parseInterventionSpecs } from '../../sweep/interventions.js';
import { openModel } from '../open-model.js';
import { dtypeOption } from '../dtype-option.js';
import { parsePositiveInt, runCommand } from '../run-command.js';

interface PaperCliOptions {
  model: string;
  data: string;
  out: string;
  textField: string;
  maxTokens?: string;
  maxDocs?: string;
  seqLen?: string;
  interventions?: string;
  wic?: string;
  png: boolean;
  fresh?: boolean;
  dtype: string;
}

export function registerPaper(program: Command): void {
  dtypeOption(program
    .command('paper'))
    .description("one command from a model to the paper's figures: robustness sweeps, every stage analysis, and the report")
    .requiredOption('--model <dir|org/name>', 'model folder or Hugging Face id (local cache first, then the Hub)')
    .requiredOption('--data <file>', 'corpus: plain text (documents separated by blank lines), .jsonl or .parquet with a text field')
    .requiredOption('--out <dir>', 'output folder: sweep/, stages/, report.html, report-figures/')
    .option('--max-tokens <n>', 'stop after n corpus tokens (BOS not counted); the paper used about 1M')
    .option('--max-docs <n>', 'use only the first n documents')
    .option('--seq-len <T>', "window length including BOS (default: the model's context, capped)")
    .option('--text-field <name>', 'JSONL field / parquet column with the text', 'text')
    .option('--interventions <list>', 'sweep interventions (default delete,swap,repeat:5)')
    .option('--wic <dir>', 'WiC dataset folder for the WiC probe (without it the probe is recorded as skipped)')
    .option('--no-png', 'skip the PNG files of the report')
    .option('--fresh', 'recompute everything even if --out holds results of the same command')
    .action(
      runCommand(async (o: PaperCliOptions) => {
        const num = (v: string | undefined, flag: string) => (v === undefined ? undefined : parsePositiveInt(v, flag));
        const model = await openModel(o.model, { dtype: o.dtype });
        const r = await runPaper(model, {
          data: o.data, out: o.out, textField: o.textField, maxTokens: num(o.maxTokens, '--max-tokens'), maxDocs: num(o.maxDocs, '--max-docs'),
          seqLen: num(o.seqLen, '--seq-len'), interventions: o.interventions ? parseInterventionSpecs(o.interventions) : undefined,
          wicDir: o.wic, png: o.png, fresh: o.fresh, command: process.argv.slice(2),
        });
        for (const w of r.warnings) process.stderr.write(`layerlab: warning: ${w}\n`);
        process.stderr.write(`wrote ${r.report} (figures in ${r.report.replace(/\.html$/, '-figures')}/)\n`);
      }),
    );
}
