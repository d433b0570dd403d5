// Queue statistics for `queue stats`, the status endpoint and the runner's drain check: counts by
// state, ready vs delayed, expired leases, oldest ready age and recent throughput from outcomes.
// Each count walks a partial index; only `done` is derived (total minus the rest).
import type { Database } from "bun:sqlite";
import type { JobState, QueueStats } from "../types.ts";
import { isPaused } from "./settings.ts";

const MINUTE = 60_000;

function count(db: Database, sql: string, ...params: number[]): number {
  return db.query<{ n: number }, number[]>(sql).get(...params)?.n ?? 0;
}

/** The number of outcomes finished after `since` (walks outcomes_finished_idx). */
export function outcomesSince(db: Database, since: number): number {
  return count(db, "SELECT count(*) AS n FROM outcomes WHERE finished_at > ?1", since);
}

export function queueStats(db: Database, now: number): QueueStats {
  // One read transaction, so the numbers describe one moment.
  return db.transaction(() => {
    const ready = db
      .query<{ n: number; oldest: number | null }, [number]>(
        `SELECT count(*) AS n, min(available_at) AS oldest FROM jobs INDEXED BY jobs_ready_idx
         WHERE state = 'queued' AND available_at <= ?1`,
      )
      .get(now) ?? { n: 0, oldest: null };
    const delayed = db
      .query<{ n: number; next: number | null }, [number]>(
        `SELECT count(*) AS n, min(available_at) AS next FROM jobs INDEXED BY jobs_ready_idx
         WHERE state = 'queued' AND available_at > ?1`,
      )
      .get(now) ?? { n: 0, next: null };
    const inProgress = count(
      db,
      "SELECT count(*) AS n FROM jobs INDEXED BY jobs_lease_expiry_idx WHERE state = 'in_progress'",
    );
    const expired = count(
      db,
      "SELECT count(*) AS n FROM jobs INDEXED BY jobs_lease_expiry_idx WHERE state = 'in_progress' AND lease_expires_at <= ?1",
      now,
    );
    const error = count(db, "SELECT count(*) AS n FROM jobs INDEXED BY jobs_error_idx WHERE state = 'error'");
    const skipped = count(
      db,
      "SELECT count(*) AS n FROM jobs INDEXED BY jobs_skipped_idx WHERE state = 'skipped'",
    );
    const total = count(db, "SELECT count(*) AS n FROM jobs");
    const counts: Record<JobState, number> = {
      queued: ready.n + delayed.n,
      in_progress: inProgress,
      done: total - ready.n - delayed.n - inProgress - error - skipped,
      skipped,
      error,
    };
    const lastMinute = outcomesSince(db, now - MINUTE);
    const last15 = outcomesSince(db, now - 15 * MINUTE);
    return {
      counts,
      total,
      ready: ready.n,
      delayed: delayed.n,
      expired,
      oldestReadyAgeMs: ready.oldest === null ? null : Math.max(0, now - ready.oldest),
      nextAvailableAt: delayed.next,
      throughput: { lastMinute, last15MinutesPerMinute: last15 / 15 },
      paused: isPaused(db),
    };
  })();
}
