import type { Command } from 'commander';
import type { Model } from '../model/model.js';
import type { JobRunner } from '../runs/job-runner.js';
import { parseQueueUrl, queueUrlFrom } from '../queue/redis-url.js';

/** Adds --queue to a command whose jobs may run on workers (sweep, stages, paper). */
export function queueOption(cmd: Command): Command {
  return cmd.option(
    '--queue <url>',
    'run the jobs on `layerlab worker` processes through Redis (redis://[user:password@]host:port[/db], rediss:// for TLS; default $LAYERLAB_QUEUE); ' +
      'this command then coordinates: same folder, same numbers (see docs/distributed.md)',
  );
}

/** The queue URL of --queue or LAYERLAB_QUEUE, checked before any work starts; undefined: in-process. */
export function queueUrl(flag: string | undefined): string | undefined {
  const url = queueUrlFrom(flag);
  if (url !== undefined) parseQueueUrl(url);
  return url;
}

/**
 * Runs `fn` with the queue coordinator when a URL is given (else undefined: jobs run in-process), and
 * closes the queue's connection afterwards. The coordinator module (bullmq, ioredis) is loaded only then.
 */
export async function withQueueRunner<T>(url: string | undefined, model: Model, fn: (runner: JobRunner | undefined) => Promise<T>): Promise<T> {
  if (url === undefined) return fn(undefined);
  const { openQueueRunner } = await import('../queue/coordinator.js');
  const runner = await openQueueRunner(url, model);
  try {
    return await fn(runner);
  } finally {
    await runner.close?.();
  }
}
