import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { LayerlabError } from '../../util/errors.js';
import { parseList } from '../args.js';
import { parsePositiveInt, runCommand } from '../run-command.js';
import { queueUrl } from '../queue-option.js';

interface WorkerCliOptions {
  queue?: string;
  concurrency: string;
  threads?: string;
  models?: string;
  allowModels: string;
  keepModels: string;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the jobs of `sweep`, `stages` and `paper` commands started with --queue (see docs/distributed.md); stops on SIGINT/SIGTERM after its current jobs')
    .option('--queue <url>', 'Redis of the queue: redis://[user:password@]host:port[/db] or rediss:// (default $LAYERLAB_QUEUE)')
    .option('--concurrency <n>', 'jobs at once, each in its own compute process (N x threads should not exceed the cores)', '1')
    .option('--threads <n>', 'BLAS and kernel threads of each compute process (default: every core / concurrency)')
    .option('--models <dir>', 'folder of model folders: a job naming model folder NAME loads DIR/NAME (never a path outside DIR)')
    .option('--allow-models <patterns>', 'comma-separated model names (Hub ids ORG/NAME or folder names) this worker may load; * matches any text', '*')
    .option('--keep-models <n>', 'models each compute process keeps loaded (least recently used dropped first)', '2')
    .action(
      runCommand(async (o: WorkerCliOptions) => {
        const url = queueUrl(o.queue);
        if (url === undefined) throw new LayerlabError('worker needs --queue redis://host:port (or LAYERLAB_QUEUE)');
        const concurrency = parsePositiveInt(o.concurrency, '--concurrency');
        const threads = o.threads === undefined ? Math.max(1, Math.floor(availableParallelism() / concurrency)) : parsePositiveInt(o.threads, '--threads');
        if (o.models !== undefined && (!existsSync(o.models) || !statSync(o.models).isDirectory())) throw new LayerlabError('--models must be a folder', o.models);
        const { runWorker } = await import('../../queue/worker.js');
        await runWorker({
          queue: url, concurrency, threads, modelsDir: o.models === undefined ? undefined : resolve(o.models),
          allow: parseList(o.allowModels, '--allow-models'), keepModels: parsePositiveInt(o.keepModels, '--keep-models'),
        });
      }),
    );
}
