import type { Command } from 'commander';
import { DEFAULT_SHARD_DOCS } from '../../runs/shards.js';
import { parseInterventionSpecs } from '../../sweep/interventions.js';
import { BATCH_TOKENS_CAP, executeSweep, SEQ_LEN_CAP, type SweepRunOptions } from '../../runs/sweep.js';
import { openModel } from '../open-model.js';
import { parseStrictInt } from '../args.js';
import { checkOutputs, type OutTarget } from '../out-path.js';
import { dtypeOption } from '../dtype-option.js';
import { protocolOption } from '../protocol-option.js';
import { parseProtocol } from '../../protocol/protocol.js';
import { queueOption, queueUrl, withQueueRunner } from '../queue-option.js';
import { parsePositiveInt, runCommand } from '../run-command.js';

export { SEQ_LEN_CAP, BATCH_TOKENS_CAP, sweepChoices } from '../../runs/sweep.js';

interface SweepOpts {
  model: string;
  data: string;
  interventions: string;
  textField: string;
  maxDocs?: string;
  maxTokens?: string;
  seqLen?: string;
  batchTokens?: string;
  shardDocs?: string;
  batchMb: string;
  prefixCacheMb: string;
  out: string;
  fresh?: boolean;
  dtype: string;
  protocol: string;
  maxDocTokens?: string;
  queue?: string;
}

export function registerSweep(program: Command): void {
  queueOption(protocolOption(dtypeOption(program
    .command('sweep'))))
    .description('robustness sweep: delete / swap / repeat every layer and measure KL, top-1 agreement, loss and entropy against the original model')
    .requiredOption('--model <dir|org/name>', 'model folder or Hugging Face id')
    .requiredOption('--data <file>', 'corpus: plain text (documents separated by blank lines), .jsonl or .parquet')
    .option('--interventions <list>', 'delete, swap, repeat:K, plan:0,1,3,2 (comma-separated)', 'delete,swap')
    .option('--text-field <name>', 'JSONL field / parquet column holding the text', 'text')
    .option('--max-docs <n>', 'use only the first n documents')
    .option('--max-tokens <n>', 'stop after n tokens (BOS not counted)')
    .option('--seq-len <T>', `window length including BOS (default: the model's context, at most ${SEQ_LEN_CAP})`)
    .option('--batch-tokens <n>', `tokens per batch (default: what --batch-mb allows, at most ${BATCH_TOKENS_CAP}; at least one window)`)
    .option('--batch-mb <MiB>', "memory for a batch's baseline logits (rows x vocab floats), kept while the batch's plans run", '1024')
    .option('--prefix-cache-mb <MiB>', 'memory for cached residual streams of shared plan prefixes (0: recompute every plan)', '512')
    .option('--shard-docs <n>', `documents per data shard, one job each (default ${DEFAULT_SHARD_DOCS}, the same with or without --queue); results are merged in shard order`)
    .option('--fresh', 'start over even if --out holds an unfinished run of the same command')
    .requiredOption('--out <dir>', 'output folder (created; an unfinished run of the same command resumes)')
    .action(runCommand(async (opts: SweepOpts) => sweepCommand(opts)));
}

async function sweepCommand(opts: SweepOpts): Promise<void> {
  const outs: OutTarget[] = [{ path: opts.out, kind: 'dir' }];
  checkOutputs(outs, [opts.model, opts.data]);
  const protocol = parseProtocol(opts.protocol);
  const specs = parseInterventionSpecs(opts.interventions);
  const queue = queueUrl(opts.queue);
  const num = (v: string | undefined, flag: string) => (v === undefined ? undefined : parsePositiveInt(v, flag));
  const run: SweepRunOptions = {
    protocol,
    data: opts.data,
    specs,
    maxDocTokens: num(opts.maxDocTokens, '--max-doc-tokens'),
    textField: opts.textField,
    maxDocs: num(opts.maxDocs, '--max-docs'),
    maxTokens: num(opts.maxTokens, '--max-tokens'),
    seqLen: num(opts.seqLen, '--seq-len'),
    batchTokens: num(opts.batchTokens, '--batch-tokens'),
    shardDocs: num(opts.shardDocs, '--shard-docs'),
    batchMb: parseStrictInt(opts.batchMb, '--batch-mb', 0),
    prefixCacheMb: parseStrictInt(opts.prefixCacheMb, '--prefix-cache-mb', 0),
    out: opts.out,
    fresh: opts.fresh,
  };
  const model = await openModel(opts.model, outs, { dtype: opts.dtype });
  await withQueueRunner(queue, model, (runner) => executeSweep(model, { ...run, runner }));
}
