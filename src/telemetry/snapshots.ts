// The read-only views telemetry and the status endpoint consume: queue counts and per-host state.
// Kept as small structural types so the store and the politeness layer satisfy them without either
// side importing the other.

export const JOB_STATES = ["queued", "in_progress", "done", "skipped", "error"] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_STATES: readonly JobState[] = ["done", "skipped", "error"];

/** Counts by state plus readiness; what `queue stats` prints and `/api/stats` serves. */
export interface QueueStats {
  counts: Record<JobState, number>;
  /** Queued jobs whose `available_at` has passed. */
  ready?: number;
  /** Queued jobs waiting for their backoff or a host. */
  delayed?: number;
  /** Age of the oldest ready job in ms, null when nothing is ready. */
  oldestReadyAgeMs?: number | null;
  paused?: boolean;
}

export type BreakerState = "closed" | "open" | "half_open";

/** One host as the politeness layer sees it right now. */
export interface HostSnapshot {
  host: string;
  in_flight: number;
  /** Effective limits, e.g. { artifact: "2/s", metadata: "10/s" } and the connection cap. */
  rates?: Partial<Record<"metadata" | "landing" | "artifact", string>>;
  max_concurrent?: number;
  /** Epoch ms before which no request may go out (rate, Crawl-delay), if any. */
  next_allowed_at?: number | null;
  /** Epoch ms until which the host is cooling down (Retry-After, backoff), if any. */
  cooldown_until?: number | null;
  breaker: BreakerState;
  requests?: number;
  status_429?: number;
  bytes?: number;
}

export function totalJobs(s: QueueStats): number {
  return JOB_STATES.reduce((n, st) => n + (s.counts[st] ?? 0), 0);
}

export function terminalJobs(s: QueueStats): number {
  return TERMINAL_STATES.reduce((n, st) => n + (s.counts[st] ?? 0), 0);
}
