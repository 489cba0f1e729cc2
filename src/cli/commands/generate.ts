import { join } from 'node:path';
import type { Command } from 'commander';
import { loadTokenizer } from '../../load/tokenizer.js';
import { greedyGenerate } from '../../model/generate.js';
import { LayerlabError } from '../../util/errors.js';
import { openModel } from '../open-model.js';
import { checkPlanBlocks } from '../args.js';
import { dtypeOption } from '../dtype-option.js';
import { parsePlanList, parsePositiveInt, runCommand } from '../run-command.js';

export function registerGenerate(program: Command): void {
  dtypeOption(program
    .command('generate'))
    .description('greedy continuation of a prompt (optionally along a layer plan)')
    .requiredOption('--model <dir|org/name>', 'model folder or Hugging Face id')
    .requiredOption('--prompt <text>', 'prompt text (BOS is prepended when the model has one)')
    .option('--max-new-tokens <n>', 'tokens to generate', '32')
    .option('--plan <blocks>', 'block indices in execution order')
    .action(
      runCommand(async (opts: { model: string; prompt: string; maxNewTokens: string; plan?: string; dtype: string }) => {
        const n = parsePositiveInt(opts.maxNewTokens, '--max-new-tokens');
        if (opts.prompt.trim() === '') throw new LayerlabError('--prompt is empty; give the text to continue');
        const plan = opts.plan === undefined ? undefined : parsePlanList(opts.plan);
        const model = await openModel(opts.model, [], { dtype: opts.dtype });
        checkPlanBlocks(plan, model.config.nLayers);
        const tok = loadTokenizer(model.source.dir, model.config);
        const ids = tok.encode(opts.prompt);
        const bos = model.config.bosTokenId ?? tok.bosTokenId;
        const prompt = bos === undefined ? ids : [bos, ...ids];
        if (ids.length === 0) throw new LayerlabError('--prompt gives no tokens with this tokenizer');
        const bad = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= model.config.vocabSize);
        if (bad >= 0)
          throw new LayerlabError(`the tokenizer turned --prompt into token id ${ids[bad]} (token ${bad + 1}), outside the model's vocabulary 0..${model.config.vocabSize - 1}; is its unk_token in the vocab?`, join(model.source.dir, 'tokenizer.json'));
        const out = greedyGenerate(model, prompt, n, { plan, stopAt: model.config.eosTokenId ?? tok.eosTokenId });
        // Decode prompt and continuation together: decoders such as SentencePiece's strip a leading space
        // from the first token, which would glue the continuation to the prompt if decoded alone.
        const before = tok.decode(ids, { skipSpecialTokens: true });
        const all = tok.decode([...ids, ...out], { skipSpecialTokens: true });
        const continuation = all.startsWith(before) ? all.slice(before.length) : tok.decode(out, { skipSpecialTokens: true });
        process.stdout.write(opts.prompt + continuation + '\n');
      }),
    );
}
