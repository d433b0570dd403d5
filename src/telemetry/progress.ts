// Progress of a run: a live line redrawn in place on a TTY (stderr), or a progress record logged
// periodically in JSON log mode. The figures and their formatting are pure functions; the reporter
// is a thin timer around them.
import { formatBytes, formatCount, formatDuration, formatRate } from "./format.ts";
import { ThroughputSampler } from "./throughput.ts";

export interface ProgressCounts {
  /** Jobs finished (terminal). */
  done: number;
  /** All jobs known (terminal + queued + in progress). */
  total: number;
  /** Bytes downloaded so far. */
  bytes: number;
  inFlight: number;
}

export interface ProgressSnapshot extends ProgressCounts {
  jobsPerSec: number | null;
  bytesPerSec: number | null;
  /** Seconds until everything is finished at the current rate; null when unknown. */
  etaSeconds: number | null;
}

export function progressSnapshot(
  counts: ProgressCounts,
  rate: { jobsPerSec: number; bytesPerSec: number } | null,
): ProgressSnapshot {
  const remaining = Math.max(0, counts.total - counts.done);
  const etaSeconds = remaining === 0 ? 0 : rate && rate.jobsPerSec > 0 ? remaining / rate.jobsPerSec : null;
  return {
    ...counts,
    jobsPerSec: rate?.jobsPerSec ?? null,
    bytesPerSec: rate?.bytesPerSec ?? null,
    etaSeconds,
  };
}

/** "1,234/10,000 12.3% · 4.50/s · 1.2 MB/s · ETA 32m10s · 16 in flight", cut to `columns`. */
export function formatProgressLine(s: ProgressSnapshot, columns = 80): string {
  const pct = s.total > 0 ? `${((100 * s.done) / s.total).toFixed(1)}%` : "–";
  const parts = [
    `${formatCount(s.done)}/${formatCount(s.total)} ${pct}`,
    s.jobsPerSec === null ? "–/s" : formatRate(s.jobsPerSec),
    `${s.bytesPerSec === null ? "–" : formatBytes(s.bytesPerSec)}/s`,
    `ETA ${formatDuration(s.etaSeconds)}`,
    `${formatCount(s.inFlight)} in flight`,
  ];
  let line = parts.join(" · ");
  // Drop trailing parts before cutting mid-word, so a narrow terminal still gets whole figures.
  while (line.length > columns && parts.length > 1) {
    parts.pop();
    line = parts.join(" · ");
  }
  return line.length > columns ? line.slice(0, Math.max(0, columns)) : line;
}

/** The structured record logged in JSON mode (numbers, not formatted text). */
export function progressRecord(s: ProgressSnapshot): Record<string, number | null | string> {
  const round = (x: number | null, d: number) => (x === null ? null : Number(x.toFixed(d)));
  return {
    msg: "progress",
    done: s.done,
    total: s.total,
    in_flight: s.inFlight,
    bytes: s.bytes,
    jobs_per_s: round(s.jobsPerSec, 3),
    bytes_per_s: round(s.bytesPerSec, 0),
    eta_s: round(s.etaSeconds, 0),
  };
}

/** Erase the current terminal line and return the cursor to its start. */
export const CLEAR_LINE = "\r\x1b[2K";

export interface ProgressReporterOptions {
  mode: "tty" | "json" | "off";
  read: () => ProgressCounts;
  now: () => number;
  /** The TTY stream (stderr); `columns` when known. */
  stream?: { write(s: string): unknown; columns?: number };
  /** Receives progress records in JSON mode (the logger). */
  log?: (record: Record<string, unknown>) => void;
  /** How often to redraw (TTY) or log (JSON), ms. */
  intervalMs: number;
  /** Window of the rate average, ms (default 60 s). */
  rateWindowMs?: number;
}

export class ProgressReporter {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly sampler = new ThroughputSampler(720);
  private drawn = false;

  constructor(private readonly opts: ProgressReporterOptions) {}

  /** Samples the counters and draws or logs once. */
  tick(): ProgressSnapshot {
    const counts = this.opts.read();
    this.sampler.record({ t: this.opts.now(), done: counts.done, bytes: counts.bytes });
    const snap = progressSnapshot(counts, this.sampler.rate(this.opts.rateWindowMs ?? 60_000));
    if (this.opts.mode === "tty" && this.opts.stream) {
      const cols = Math.max(20, (this.opts.stream.columns ?? 80) - 1);
      this.opts.stream.write(`${CLEAR_LINE}${formatProgressLine(snap, cols)}`);
      this.drawn = true;
    } else if (this.opts.mode === "json") {
      this.opts.log?.(progressRecord(snap));
    }
    return snap;
  }

  start(): void {
    if (this.opts.mode === "off" || this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer; on a TTY the line is cleared so later output starts on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn && this.opts.stream) this.opts.stream.write(CLEAR_LINE);
    this.drawn = false;
  }
}
