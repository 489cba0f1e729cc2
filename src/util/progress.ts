/**
 * Progress for long runs (sweeps, analyses): counts, rate and ETA on one line. On a terminal the line is
 * redrawn in place (at most 5 times a second); otherwise (CI, a log file) a plain line is printed every
 * 30 seconds and at the end, so logs show progress without flooding.
 */
export interface ProgressUpdate {
  /** Units done so far (e.g. plans) and the total. */
  done: number;
  total: number;
  /** Free text after the counts (e.g. "12,288 tokens"). */
  detail?: string;
}

/** 42s, 3m05s, 1h07m; '?' when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export class ProgressBar {
  private readonly start: number;
  private lastDraw = 0;
  private startDone = -1;

  constructor(
    private readonly label: string,
    private readonly unit: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
  }

  /** ETA uses only the work done in this process, so a resumed run does not look instantly fast. */
  format(u: ProgressUpdate, elapsedMs: number, width = 24): string {
    const frac = u.total > 0 ? Math.min(1, u.done / u.total) : 1;
    const filled = Math.round(frac * width);
    const doneHere = u.done - Math.max(0, this.startDone);
    const rate = elapsedMs > 0 ? doneHere / (elapsedMs / 1000) : 0;
    const eta = u.done >= u.total ? 'done' : rate > 0 ? `ETA ${formatDuration((u.total - u.done) / rate)}` : 'ETA ?';
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${u.done}/${u.total} ${this.unit}${u.detail ? `, ${u.detail}` : ''}  ${formatDuration(elapsedMs / 1000)} elapsed, ${eta}`;
  }

  update(u: ProgressUpdate): void {
    if (this.startDone < 0) this.startDone = u.done;
    const t = this.now();
    const finished = u.done >= u.total;
    const tty = this.stream.isTTY;
    if (!finished && t - this.lastDraw < (tty ? 200 : 30000)) return;
    this.lastDraw = t;
    const line = this.format(u, t - this.start);
    this.stream.write(tty ? `\r${line}\x1b[K${finished ? '\n' : ''}` : `${line}\n`);
  }
}
