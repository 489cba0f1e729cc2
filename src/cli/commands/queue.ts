import type { Command } from 'commander';
import { LayerlabError } from '../../util/errors.js';
// Types only: bullmq and ioredis load (over a second) when a queue command runs, not at every CLI start.
import type { QueueStatus } from '../../queue/queue-admin.js';
import { connectRedis, parseQueueUrl, queueUrlFrom, redisError, type QueueTarget } from '../../queue/redis-url.js';
import { runCommand } from '../run-command.js';
import type { Redis } from 'ioredis';

const QUEUE_FLAG: [string, string] = ['--queue <url>', 'Redis URL: redis://[user:password@]host:port[/db], rediss:// for TLS (default: $LAYERLAB_QUEUE)'];

/** Connects to the queue named by --queue or LAYERLAB_QUEUE, runs `fn`, and always disconnects. */
async function withQueue<T>(flag: string | undefined, fn: (redis: Redis, target: QueueTarget) => Promise<T>): Promise<T> {
  const url = queueUrlFrom(flag);
  if (url === undefined) throw new LayerlabError('--queue URL is required (or set LAYERLAB_QUEUE)');
  const target = parseQueueUrl(url);
  const redis = await connectRedis(target);
  try {
    return await fn(redis, target);
  } catch (e) {
    // A Redis failure after connecting (a restart, an ACL refusal) is one line too; other errors pass as they are.
    if (e instanceof Error && !(e instanceof LayerlabError) && /redis|connection|NOAUTH|NOPERM|WRONGPASS|ECONN/i.test(`${e.name} ${e.message}`))
      throw redisError(target, e);
    throw e;
  } finally {
    redis.disconnect();
  }
}

/** A left-aligned text table with the given columns (right-aligned where the values are counts). */
function table(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function statusText(s: QueueStatus, display: string): string {
  const out = [`queue ${display}`];
  if (s.runs.length === 0) out.push('no runs');
  else {
    const rows = s.runs.map((r) => {
      const rec = r.record;
      const total = r.counts.waiting + r.counts.active + r.counts.completed + r.counts.failed;
      return [r.run_id, rec?.command ?? '?', rec ? rec.model : '(no record)', `${total}${rec ? `/${rec.jobs}` : ''}`,
        String(r.counts.waiting), String(r.counts.active), String(r.counts.completed), String(r.counts.failed),
        rec ? rec.created_at.replace(/\.\d+Z$/, 'Z') : ''];
    });
    out.push(table(['run', 'command', 'model', 'jobs', 'waiting', 'active', 'done', 'failed', 'created'], rows,
      [false, false, false, true, true, true, true, true, false]));
  }
  const live = s.workers.filter((w) => w.live);
  const stale = s.workers.length - live.length;
  out.push(`workers: ${live.length} live${stale > 0 ? ` (${stale} silent for 30 s or more, not counted)` : ''}`);
  if (live.length > 0)
    out.push(table(['worker', 'concurrency', 'threads', 'models', 'job', 'seen'],
      live.map((w) => [w.worker_id, String(w.concurrency), String(w.threads), String(w.models_loaded.length), w.current_job ?? '-', `${w.seen_s_ago}s ago`]),
      [false, true, true, true, false, false]));
  if (s.other_jobs > 0) out.push(`${s.other_jobs} other jobs in the queue are not layerlab runs' (their ids lack a run id)`);
  return out.join('\n') + '\n';
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('look after a job queue on Redis: list runs and workers, remove a run');
  queue
    .command('status')
    .description("runs in the queue with their jobs waiting/active/done/failed, and the live workers")
    .option(...QUEUE_FLAG)
    .option('--json', 'print JSON')
    .action(runCommand(async (opts: { queue?: string; json?: boolean }) => {
      await withQueue(opts.queue, async (redis, target) => {
        const { queueStatus } = await import('../../queue/queue-admin.js');
        const s = await queueStatus(redis);
        process.stdout.write(opts.json ? JSON.stringify({ queue: target.display, ...s }, null, 2) + '\n' : statusText(s, target.display));
      });
    }));
  queue
    .command('clean')
    .description("remove a run's jobs (every state) and its record from the queue")
    .option(...QUEUE_FLAG)
    .requiredOption('--run <id>', 'run id, as `layerlab queue status` lists it')
    .action(runCommand(async (opts: { queue?: string; run: string }) => {
      if (!/^[0-9a-f]{16}$/.test(opts.run)) throw new LayerlabError(`--run ${JSON.stringify(opts.run)}: not a run id (16 hex digits, as layerlab queue status lists them)`);
      await withQueue(opts.queue, async (redis, target) => {
        const { cleanRun } = await import('../../queue/queue-admin.js');
        const r = await cleanRun(redis, opts.run);
        if (!r.found) throw new LayerlabError(`--run ${opts.run}: no such run in the queue at ${target.display}`);
        const n = r.removed;
        const total = n.waiting + n.active + n.completed + n.failed;
        const parts = (['completed', 'failed', 'waiting', 'active'] as const).filter((k) => n[k] > 0).map((k) => `${n[k]} ${k === 'completed' ? 'done' : k}`);
        process.stdout.write(`run ${opts.run}: removed ${total} job${total === 1 ? '' : 's'}${parts.length ? ` (${parts.join(', ')})` : ''}` +
          `${r.record_removed ? ' and its record' : ''}\n`);
        if (r.kept_active > 0) {
          process.stderr.write(`layerlab: ${r.kept_active} active job${r.kept_active === 1 ? ' is' : 's are'} still held by a worker and were kept with the run's record; run clean again once they finish or their worker is gone\n`);
          process.exitCode = 1;
        }
      });
    }));
}
