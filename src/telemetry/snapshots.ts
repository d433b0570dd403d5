// The read-only views telemetry and the status endpoint consume: queue counts (the store's
// QueueStats) and per-host state (the politeness layer's HostSnapshot), plus small helpers on them.
import type { HostSnapshot } from "../politeness/politeness.ts";
import { JOB_STATES, type JobState, type QueueStats } from "../store/types.ts";

export type { HostSnapshot, JobState, QueueStats };
export { JOB_STATES };

export type BreakerState = HostSnapshot["breaker"]["state"];
export const TERMINAL_STATES: readonly JobState[] = ["done", "skipped", "error"];

export function totalJobs(s: Pick<QueueStats, "counts">): number {
  return JOB_STATES.reduce((n, st) => n + (s.counts[st] ?? 0), 0);
}

export function terminalJobs(s: Pick<QueueStats, "counts">): number {
  return TERMINAL_STATES.reduce((n, st) => n + (s.counts[st] ?? 0), 0);
}
