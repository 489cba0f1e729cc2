/**
 * How BullMQ notices a dead worker. A worker holds a lock on each job it runs (`lockDuration`), renewed
 * every half of it by the worker's main thread, which only talks to Redis (jobs compute in child
 * processes, src/queue/worker.ts), so a long job never loses its lock. A worker killed mid-job stops
 * renewing; every `stalledInterval` the live workers look for jobs whose lock expired and put them back in
 * the queue, so a dead worker's job restarts elsewhere within lockDuration + stalledInterval (at most
 * 60 s here). A job that stalls more than `maxStalledCount` times (a job that kills every worker that
 * takes it, such as the kernel's out-of-memory killer) fails the run instead of looping.
 *
 * LAYERLAB_QUEUE_TEST_LOCK_MS (test-only: never set it in production, where a busy machine could miss a
 * renewal) shortens the lock to that many milliseconds and checks for stalls twice as often.
 */
export interface StallSettings {
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
}

export const STALL_DEFAULTS: StallSettings = { lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 2 };

/** Attempts a job gets when it fails for a real reason (an exception, a NaN, a crashed compute process). */
export const JOB_ATTEMPTS = 3;
export const RETRY_DELAY_MS = 1000;

export function stallSettings(): StallSettings {
  const test = Number(process.env.LAYERLAB_QUEUE_TEST_LOCK_MS ?? 0);
  if (!Number.isInteger(test) || test <= 0) return STALL_DEFAULTS;
  return { lockDuration: test, stalledInterval: Math.max(200, Math.round(test / 2)), maxStalledCount: STALL_DEFAULTS.maxStalledCount };
}
