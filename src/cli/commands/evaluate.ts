import type { Command } from 'commander';
import { EVAL_BATCH_TOKENS, executeEvaluate } from '../../evaluate/run-evaluate.js';
import { parseTasks, TASKS } from '../../evaluate/tasks/registry.js';
import { parseInterventionSpecs } from '../../sweep/interventions.js';
import { LayerlabError } from '../../util/errors.js';
import { parseStrictInt } from '../args.js';
import { dtypeOption } from '../dtype-option.js';
import { openModel } from '../open-model.js';
import { checkOutputs, type OutTarget } from '../out-path.js';
import { parsePositiveInt, runCommand } from '../run-command.js';

interface EvaluateCliOptions {
  model: string;
  tasks: string;
  interventions: string;
  limit?: string;
  taskDir?: string;
  bos: string;
  batchTokens: string;
  prefixCacheMb: string;
  out: string;
  fresh?: boolean;
  dtype: string;
}

/** --task-dir, else $LAYERLAB_TASK_DIR; there is no built-in location. */
export function resolveTaskDir(flag: string | undefined): string {
  const dir = flag ?? process.env.LAYERLAB_TASK_DIR;
  if (!dir) throw new LayerlabError('--task-dir DIR is required (or set LAYERLAB_TASK_DIR): the folder holding lambada/lambada_openai.jsonl, arc_easy/arc_easy.jsonl and hellaswag/hellaswag_val.jsonl');
  return dir;
}

export function registerEvaluate(program: Command): void {
  dtypeOption(program
    .command('evaluate'))
    .description('benchmarks under every plan, scored exactly as lm-evaluation-harness (zero-shot): lambada_openai, arc_easy, hellaswag after deleting / swapping / repeating each layer')
    .requiredOption('--model <dir|org/name>', 'model folder or Hugging Face id')
    .option('--tasks <list>', `comma-separated lm-eval task names (${Object.keys(TASKS).join(', ')})`, Object.keys(TASKS).join(','))
    .option('--interventions <list>', 'delete, swap, repeat:K, plan:0,1,3,2 (comma-separated)', 'delete,swap')
    .option('--limit <n>', 'score only the first n documents of each task (as lm-eval --limit)')
    .option('--task-dir <dir>', 'folder with the task files (HF field names, JSONL; see docs/evaluate.md); default $LAYERLAB_TASK_DIR')
    .option('--bos <rule>', "BOS rule: 'harness' (lm-eval v0.4.2-v0.4.9.1: no BOS except Gemma) or 'tokenizer' (v0.4.9.2+: the tokenizer's default)", 'harness')
    .option('--batch-tokens <n>', 'tokens (requests x longest input) per unit of work', String(EVAL_BATCH_TOKENS))
    .option('--prefix-cache-mb <MiB>', 'memory for cached residual streams of shared plan prefixes', '512')
    .option('--fresh', 'start over even if --out holds an unfinished run of the same command')
    .requiredOption('--out <dir>', 'output folder (created; an unfinished run of the same command resumes)')
    .action(
      runCommand(async (o: EvaluateCliOptions) => {
        if (o.bos !== 'harness' && o.bos !== 'tokenizer') throw new LayerlabError(`--bos must be harness or tokenizer, got '${o.bos}'`);
        const mb = parseStrictInt(o.prefixCacheMb, '--prefix-cache-mb', 0);
        const tasks = parseTasks(o.tasks);
        const specs = parseInterventionSpecs(o.interventions);
        const taskDir = resolveTaskDir(o.taskDir);
        const outs: OutTarget[] = [{ path: o.out, kind: 'dir' }];
        checkOutputs(outs, [o.model, taskDir]);
        await executeEvaluate(await openModel(o.model, outs, { dtype: o.dtype }), {
          tasks, taskDir, specs, limit: o.limit === undefined ? undefined : parsePositiveInt(o.limit, '--limit'), bosRule: o.bos,
          batchTokens: parsePositiveInt(o.batchTokens, '--batch-tokens'), prefixCacheMb: mb, out: o.out, fresh: o.fresh, command: process.argv.slice(2),
        });
      }),
    );
}
