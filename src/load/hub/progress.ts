import { formatDuration } from '../../util/progress.js';
import type { DownloadProgress, ProgressCallback } from './settings.js';

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** One line: name, bytes, bar, speed and time left. Speed counts only this attempt's bytes. */
export function formatProgress(p: DownloadProgress, elapsedSeconds: number, width = 24): string {
  const speed = elapsedSeconds > 0 ? (p.received - p.resumedFrom) / elapsedSeconds : 0;
  const rate = `${mb(speed)} MB/s`;
  if (p.total === undefined || p.total === 0) return `${p.file}  ${mb(p.received)} MB  ${rate}`;
  const frac = Math.min(1, p.received / p.total);
  const filled = Math.round(frac * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const eta = p.done ? 'done' : `ETA ${speed > 0 ? formatDuration((p.total - p.received) / speed) : '?'}`;
  return `${p.file}  ${mb(p.received)}/${mb(p.total)} MB  ${bar} ${Math.floor(frac * 100)}%  ${rate}  ${eta}`;
}

/**
 * A progress bar redrawn in place on a terminal stream, at most ten times a second, with a final line
 * per file. Not a terminal (a log file, a pipe): nothing is written, so logs stay clean.
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressCallback {
  if (!stream.isTTY) return () => {};
  const started = new Map<string, number>();
  let lastDraw = -Infinity;
  return (p) => {
    const t = now();
    // a new attempt (first call, or a resume after a cut) restarts the clock used for the speed
    if (!started.has(p.file) || (p.received === p.resumedFrom && !p.done)) started.set(p.file, t);
    if (!p.done && t - lastDraw < 100) return;
    lastDraw = t;
    const line = formatProgress(p, (t - started.get(p.file)!) / 1000);
    stream.write(`\r${line}\x1b[K${p.done ? '\n' : ''}`);
    if (p.done) started.delete(p.file);
  };
}
