import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkTokenIds } from '../../model/executor.js';
import { forward, toBatch, validatePlan } from '../../model/forward.js';
import { allHookNames, hookMatcher } from '../../model/hooks.js';
import { writeSafetensors, type TensorToWrite } from '../../load/safetensors.js';
import { LayerlabError } from '../../util/errors.js';
import { provenance } from '../../util/provenance.js';
import { openModel } from '../open-model.js';
import { checkPlanBlocks, parseList } from '../args.js';
import { checkOutputs, type OutTarget } from '../out-path.js';
import { dtypeOption } from '../dtype-option.js';
import { parsePlanList, runCommand } from '../run-command.js';

function readInputIds(path: string): number[][] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LayerlabError(`cannot read token ids (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  if (!Array.isArray(raw) || !raw.every((r) => Array.isArray(r)))
    throw new LayerlabError('expected a JSON array of rows of token ids, e.g. [[50256, 464, 3290]]', path);
  if (raw.length === 0 || raw.some((r) => r.length === 0)) throw new LayerlabError('input is empty: every row needs at least one token id', path);
  return raw as number[][];
}

export function registerForward(program: Command): void {
  dtypeOption(program
    .command('forward'))
    .description('run a forward pass along a layer plan and save logits and hooked activations')
    .requiredOption('--model <dir|org/name>', 'model folder or Hugging Face id')
    .requiredOption('--input-ids <file.json>', 'JSON [[id, ...], ...]: rows of equal length')
    .option('--plan <blocks>', 'block indices in execution order, e.g. 0,2,1,3 (default: all blocks in order)')
    .option('--hooks <names>', 'comma-separated hook names to save; * matches one name part (blocks.*.hook_resid_post)')
    .requiredOption('--out <file.safetensors>', 'output file (overwritten)')
    .action(
      runCommand(async (opts: { model: string; inputIds: string; plan?: string; hooks?: string; out: string; dtype: string }) => {
        const outs: OutTarget[] = [{ path: opts.out, kind: 'file' }];
        checkOutputs(outs, [opts.model, opts.inputIds]);
        const plan = opts.plan === undefined ? undefined : parsePlanList(opts.plan);
        const hooks = opts.hooks === undefined ? [] : parseList(opts.hooks, '--hooks', { unique: true });
        const rows = readInputIds(opts.inputIds);
        const model = await openModel(opts.model, outs, { dtype: opts.dtype });
        checkPlanBlocks(plan, model.config.nLayers);
        const known = allHookNames((plan ?? []).length || model.config.nLayers);
        for (const h of hooks) {
          if (!known.some(hookMatcher(h))) throw new LayerlabError(`--hooks: '${h}' matches no hook point (e.g. blocks.0.hook_resid_post, blocks.*.attn.hook_pattern, ln_final.hook_normalized)`);
        }
        // Input problems (ragged rows, ids outside the vocabulary) are reported against the input file.
        let batch;
        try {
          batch = toBatch(rows);
        } catch (e) {
          throw e instanceof LayerlabError ? new LayerlabError(e.message, opts.inputIds) : e;
        }
        if (plan) validatePlan(plan, model.config.nLayers);
        checkTokenIds(batch.ids, batch.seq, model.config.vocabSize, opts.inputIds);
        const res = forward(model, batch, { plan, cache: hooks });
        const tensors: Record<string, TensorToWrite> = { logits: { dtype: 'F32', shape: res.logits!.shape, data: res.logits!.data } };
        for (const [name, t] of res.cache) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
        const meta = { ...provenance(model), plan: JSON.stringify(res.plan) };
        writeSafetensors(opts.out, tensors, Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));
        process.stderr.write(`wrote ${opts.out}: logits [${res.logits!.shape}]${res.cache.size ? ` and ${res.cache.size} hook tensors` : ''}\n`);
      }),
    );
}
