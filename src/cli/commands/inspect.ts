import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Checkpoint } from '../../load/checkpoint.js';
import { loadTokenizer } from '../../load/tokenizer.js';
import { parameterCount } from '../../model/config.js';
import { loadConfig } from '../../model/model.js';
import { resolveModelFlag } from '../open-model.js';
import { runCommand } from '../run-command.js';
import { getBackend } from '../../backend/index.js';
import { decideDtype } from '../../model/dtype-choice.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('describe a model: family, layers, widths, parameters, dtype, tokenizer')
    .requiredOption('--model <dir|org/name>', 'model folder or Hugging Face id')
    .option('--json', 'print JSON')
    .action(
      runCommand(async (opts: { model: string; json?: boolean }) => {
        const where = await resolveModelFlag(opts.model);
        const c = loadConfig(where.dir);
        const ck = Checkpoint.open(where.dir);
        const sizes = ck.sizes();
        const dtypes = ck.dtypes();
        const stored = ck.names().reduce((n, name) => n + ck.entry(name).shape.reduce((a, b) => a * b, 1), 0);
        const auto = decideDtype('auto', ck.halfPrecisionShare(), getBackend());
        ck.close();
        let tokenizer: Record<string, unknown> = { present: false };
        if (existsSync(join(where.dir, 'tokenizer.json'))) {
          const tok = loadTokenizer(where.dir, c);
          tokenizer = { present: true, vocabSize: tok.vocabSize, bos: tok.bosTokenId, eos: tok.eosTokenId };
        }
        const info = {
          model: where.modelId ?? where.dir,
          family: c.family,
          modelType: c.modelType,
          layers: c.nLayers,
          dModel: c.dModel,
          heads: c.nHeads,
          kvHeads: c.nKvHeads,
          headDim: c.dHead,
          dMlp: c.dMlp,
          vocab: c.vocabSize,
          context: c.nCtx,
          norm: c.norm,
          positional: c.positional === 'rotary' ? `rotary (${c.rope!.dims}/${c.dHead} dims, theta ${c.rope!.theta}${c.rope!.scaling ? `, ${c.rope!.scaling.type} scaling` : ''})` : 'learned',
          block: c.block,
          mlp: c.gatedMlp ? `gated (${c.act})` : c.act,
          tiedEmbeddings: c.tiedEmbeddings,
          parameters: parameterCount(c),
          storedTensorElements: stored,
          dtype: dtypes.join('+'),
          storedBytes: sizes.storedBytes,
          f32Bytes: sizes.f32Bytes,
          bf16Bytes: sizes.f32Bytes / 2,
          dtypeAuto: { dtype: auto.dtype, reason: auto.reason },
          tokenizer,
        };
        if (opts.json) {
          process.stdout.write(JSON.stringify(info, null, 2) + '\n');
          return;
        }
        const fmt = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n.toLocaleString('en-US'));
        const lines = [
          `model        ${info.model}`,
          `family       ${info.family} (model_type ${info.modelType})`,
          `layers       ${info.layers}`,
          `widths       d_model ${info.dModel}, heads ${info.heads} (kv ${info.kvHeads}) x ${info.headDim}, d_mlp ${info.dMlp}, vocab ${info.vocab}, context ${info.context}`,
          `block        ${info.block}, ${info.norm}, ${info.positional}, mlp ${info.mlp}${info.tiedEmbeddings ? ', tied embeddings' : ''}`,
          `parameters   ${fmt(info.parameters)} (${fmt(stored)} stored values)`,
          `dtype        ${info.dtype} on disk (${(sizes.storedBytes / 2 ** 20).toFixed(1)} MiB); in memory ${(sizes.f32Bytes / 2 ** 20).toFixed(1)} MiB with --dtype f32, ${(sizes.f32Bytes / 2 ** 21).toFixed(1)} MiB with bf16`,
          `--dtype auto ${auto.dtype} (${auto.reason.replace(/^auto: /, '')})`,
          `tokenizer    ${tokenizer.present ? `vocab ${tokenizer.vocabSize}, bos ${tokenizer.bos ?? '-'}, eos ${tokenizer.eos ?? '-'}` : 'none (tokenizer.json missing; use --input-ids)'}`,
        ];
        process.stdout.write(lines.join('\n') + '\n');
      }),
    );
}
