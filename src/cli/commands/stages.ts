import type { Command } from 'commander';
import { DEFAULT_SHARD_DOCS } from '../../runs/shards.js';
import { readDocuments } from '../../data/documents.js';
import { loadTokenizer, requireBos } from '../../load/tokenizer.js';
import { DEFAULT_ANALYSES, runStages, STAGE_ANALYSES, type StageAnalysis } from '../../runs/stages.js';
import { LayerlabError } from '../../util/errors.js';
import { openModel } from '../open-model.js';
import { parseList, parsePositiveIntList } from '../args.js';
import { checkOutputs, type OutTarget } from '../out-path.js';
import { dtypeOption } from '../dtype-option.js';
import { protocolOption } from '../protocol-option.js';
import { parseProtocol } from '../../protocol/protocol.js';
import { queueOption, queueUrl, withQueueRunner } from '../queue-option.js';
import { parsePositiveInt, runCommand } from '../run-command.js';

interface StagesCliOptions {
  shardDocs?: string;
  model: string;
  data: string;
  out: string;
  analyses?: string;
  maxTokens?: string;
  maxDocs?: string;
  seqLen?: string;
  batchTokens?: string;
  textField?: string;
  tokenizer?: string;
  wic?: string;
  wicMaxTrain?: string;
  wicMaxDev?: string;
  probe?: string;
  sweep?: string;
  neuronMode: string;
  attentionBos: boolean;
  repeatDocs?: string;
  repeatBlocks?: string;
  subwordTokens?: string;
  subwordMaxExamples?: string;
  ckaBatch?: string;
  ckaAllTokensBos?: boolean;
  fresh?: boolean;
  dtype: string;
  protocol: string;
  maxDocTokens?: string;
  queue?: string;
}

export function registerStages(program: Command): void {
  queueOption(protocolOption(dtypeOption(program
    .command('stages'))))
    .description('the stage analyses of Lad et al. per layer: local attention, sub-word heads, logit lens, prediction/suppression neurons, MLP norm, layer repeat, CKA, WiC probe, "-ing" neuron probes, stage boundaries')
    .requiredOption('--model <dir|org/name>', 'model folder or Hugging Face id')
    .requiredOption('--data <file>', 'corpus: plain text (blank-line separated), JSONL or parquet')
    .requiredOption('--out <dir>', 'run folder (resumed when the same command is run again)')
    .option('--analyses <list>', `comma-separated subset of ${STAGE_ANALYSES.join(',')} (default ${DEFAULT_ANALYSES.join(',')}, plus probe with --probe)`)
    .option('--max-tokens <n>', 'stop after this many non-BOS tokens of the corpus')
    .option('--max-docs <n>', 'use only the first n documents')
    .option('--seq-len <n>', 'window length including BOS (default min(context, 512); under --protocol paper min(context, 2048))')
    .option('--batch-tokens <n>', 'tokens per forward batch (default 4096)')
    .option('--text-field <name>', 'JSONL field / parquet column with the text (default text)')
    .option('--tokenizer <dir>', 'folder with tokenizer.json (default: the model folder)')
    .option('--wic <dir>', 'WiC dataset folder (train/train.data.txt, ...); without it the WiC probe is recorded as skipped')
    .option('--wic-max-train <n>', 'use only the first n WiC training pairs')
    .option('--wic-max-dev <n>', 'use only the first n WiC dev pairs')
    .option('--probe <file.jsonl>', 'general probe: lines {"text","start","end","label"[,"split"]}')
    .option('--sweep <dir>', 'sweep folder whose metrics.json gives deletion KL for the stage boundaries')
    .option('--neuron-mode <mode>', 'weight processing for the neuron statistics: tl or raw', 'tl')
    .option('--no-attention-bos', 'do not count attention to the BOS key as local attention')
    .option('--repeat-docs <n>', 'layer repeat on the first n documents (default 10)')
    .option('--repeat-blocks <list>', 'block lengths for layer repeat (default 3,5)')
    .option('--subword-tokens <n>', 'tokens of a multi-token word (default 4; 2-4 used when too rare)')
    .option('--subword-max-examples <n>', 'most multi-token examples (default 1000)')
    .option('--cka-batch <n>', 'last-token CKA minibatch size (default 128)')
    .option('--cka-all-tokens-bos', 'include the BOS position in all-token CKA (default excluded)')
    .option('--shard-docs <n>', `documents per data shard, one job each (default ${DEFAULT_SHARD_DOCS}, the same with or without --queue); results are merged in shard order`)
    .option('--fresh', 'start over even if --out holds an unfinished run of the same command')
    .action(
      runCommand(async (o: StagesCliOptions) => {
        const outs: OutTarget[] = [{ path: o.out, kind: 'dir' }];
        checkOutputs(outs, [o.model, o.data, o.tokenizer, o.wic, o.probe, o.sweep]);
        const analyses = o.analyses === undefined ? undefined : (parseList(o.analyses, '--analyses', { unique: true }) as StageAnalysis[]);
        for (const a of analyses ?? []) if (!STAGE_ANALYSES.includes(a)) throw new LayerlabError(`--analyses: unknown analysis '${a}' (known: ${STAGE_ANALYSES.join(', ')})`);
        const protocol = parseProtocol(o.protocol);
        const maxDocTokens = o.maxDocTokens === undefined ? undefined : parsePositiveInt(o.maxDocTokens, '--max-doc-tokens');
        if (o.neuronMode !== 'tl' && o.neuronMode !== 'raw') throw new LayerlabError(`--neuron-mode must be tl or raw, got '${o.neuronMode}'`);
        const num = (v: string | undefined, flag: string) => (v === undefined ? undefined : parsePositiveInt(v, flag));
        const repeatBlockLengths = o.repeatBlocks === undefined ? undefined : parsePositiveIntList(o.repeatBlocks, '--repeat-blocks');
        const queue = queueUrl(o.queue);
        const model = await openModel(o.model, outs, { dtype: o.dtype });
        const tokenizer = loadTokenizer(o.tokenizer ?? model.source.dir, model.config);
        const bos = requireBos(tokenizer, model.source.dir);
        const maxDocs = num(o.maxDocs, '--max-docs');
        const corpus = await readDocuments(o.data, { textField: o.textField, maxDocs });
        const { manifest } = await withQueueRunner(queue, model, (runner) => runStages(
          { model, tokenizer, bos, corpus, dataFile: o.data, outDir: o.out, command: ['layerlab', ...process.argv.slice(2)] },
          {
            protocol,
            maxDocTokens,
            analyses,
            maxTokens: num(o.maxTokens, '--max-tokens'),
            maxDocs,
            seqLen: num(o.seqLen, '--seq-len'),
            batchTokens: num(o.batchTokens, '--batch-tokens'),
            shardDocs: num(o.shardDocs, '--shard-docs'),
            includeBosAttention: o.attentionBos,
            neuronMode: o.neuronMode as 'tl' | 'raw',
            repeatDocs: num(o.repeatDocs, '--repeat-docs'),
            repeatBlockLengths,
            subword: { multiTokens: num(o.subwordTokens, '--subword-tokens'), maxExamples: num(o.subwordMaxExamples, '--subword-max-examples') },
            cka: { batchSize: num(o.ckaBatch, '--cka-batch'), allTokensIncludeBos: o.ckaAllTokensBos ?? false },
            wicDir: o.wic,
            wic: { maxTrain: num(o.wicMaxTrain, '--wic-max-train'), maxDev: num(o.wicMaxDev, '--wic-max-dev') },
            probeFile: o.probe,
            sweepDir: o.sweep,
            fresh: o.fresh,
            runner,
          },
        ));
        process.stderr.write(`wrote ${o.out}: ${manifest.complete.join(', ')}\n`);
      }),
    );
}
