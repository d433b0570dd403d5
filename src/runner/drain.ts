// When `queue run --drain` may exit. The rule: exit when nothing is ready, nothing is in flight
// (in any runner sharing the queue: a job another runner holds may still come back for a retry)
// and no delayed job becomes ready within `orchestrator.drain_max_delay_s`. Delayed jobs are the
// ones waiting for a backoff, a Retry-After or a politeness release; those due later than the
// bound stay queued for the next run. A paused queue with ready jobs keeps a draining runner waiting.
import type { QueueStats } from "../store/types.ts";

export type DrainVerdict =
  | { kind: "exit"; delayed: number; nextAvailableAt: number | null }
  /** Look again after `ms` (or earlier, when something changes locally). */
  | { kind: "wait"; ms: number; why: "ready" | "in_flight" | "delayed" | "paused" };

export function drainVerdict(
  stats: Pick<QueueStats, "ready" | "expired" | "delayed" | "nextAvailableAt" | "paused" | "counts">,
  now: number,
  o: { maxDelayMs: number; pollMs: number },
): DrainVerdict {
  if (stats.ready + stats.expired > 0)
    return { kind: "wait", ms: o.pollMs, why: stats.paused ? "paused" : "ready" };
  if (stats.counts.in_progress > 0) return { kind: "wait", ms: o.pollMs, why: "in_flight" };
  if (stats.delayed > 0 && stats.nextAvailableAt !== null) {
    const due = stats.nextAvailableAt - now;
    if (due <= o.maxDelayMs)
      return { kind: "wait", ms: Math.max(1, Math.min(o.pollMs, due)), why: "delayed" };
  }
  return { kind: "exit", delayed: stats.delayed, nextAvailableAt: stats.nextAvailableAt };
}
