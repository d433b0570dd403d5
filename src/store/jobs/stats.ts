// Queue statistics for `queue stats`, the status endpoint and the runner's drain check: counts by
// state, ready vs delayed, expired leases, oldest ready age and recent throughput from outcomes.
// Each count walks a partial index; only `done` is derived (total minus the rest).
import type { Database } from "bun:sqlite";
import type { JobState, QueueStats } from "../types.ts";

const MINUTE = 60_000;

/** The statements `queueStats` folds, in order; plain SQL, so they can also run on a query thread. */
export function statsQueries(now: number): { sql: string; params: number[] }[] {
  return [
    {
      sql: `SELECT count(*) AS n, min(available_at) AS oldest FROM jobs INDEXED BY jobs_ready_idx
         WHERE state = 'queued' AND available_at <= ?1`,
      params: [now],
    },
    {
      sql: `SELECT count(*) AS n, min(available_at) AS next FROM jobs INDEXED BY jobs_ready_idx
         WHERE state = 'queued' AND available_at > ?1`,
      params: [now],
    },
    {
      sql: "SELECT count(*) AS n FROM jobs INDEXED BY jobs_lease_expiry_idx WHERE state = 'in_progress'",
      params: [],
    },
    {
      sql: "SELECT count(*) AS n FROM jobs INDEXED BY jobs_lease_expiry_idx WHERE state = 'in_progress' AND lease_expires_at <= ?1",
      params: [now],
    },
    { sql: "SELECT count(*) AS n FROM jobs INDEXED BY jobs_error_idx WHERE state = 'error'", params: [] },
    { sql: "SELECT count(*) AS n FROM jobs INDEXED BY jobs_skipped_idx WHERE state = 'skipped'", params: [] },
    { sql: "SELECT count(*) AS n FROM jobs", params: [] },
    { sql: OUTCOMES_SINCE, params: [now - MINUTE] },
    { sql: OUTCOMES_SINCE, params: [now - 15 * MINUTE] },
    { sql: "SELECT value AS n FROM settings WHERE key = 'paused'", params: [] },
  ];
}

const OUTCOMES_SINCE = "SELECT count(*) AS n FROM outcomes WHERE finished_at > ?1";

/** The number of outcomes finished after `since` (walks outcomes_finished_idx). */
export function outcomesSince(db: Database, since: number): number {
  return db.query<{ n: number }, [number]>(OUTCOMES_SINCE).get(since)?.n ?? 0;
}

type Row = { n?: number | string; oldest?: number | null; next?: number | null };

/** QueueStats from the rows of `statsQueries(now)`, one array per statement. */
export function statsFromRows(rows: readonly (readonly Row[])[], now: number): QueueStats {
  const first = (i: number): Row => rows[i]?.[0] ?? {};
  const n = (i: number) => Number(first(i).n ?? 0);
  const ready = { n: n(0), oldest: first(0).oldest ?? null };
  const delayed = { n: n(1), next: first(1).next ?? null };
  const [inProgress, expired, error, skipped, total] = [n(2), n(3), n(4), n(5), n(6)];
  const counts: Record<JobState, number> = {
    queued: ready.n + delayed.n,
    in_progress: inProgress,
    done: total - ready.n - delayed.n - inProgress - error - skipped,
    skipped,
    error,
  };
  return {
    counts,
    total,
    ready: ready.n,
    delayed: delayed.n,
    expired,
    oldestReadyAgeMs: ready.oldest === null ? null : Math.max(0, now - ready.oldest),
    nextAvailableAt: delayed.next,
    throughput: { lastMinute: n(7), last15MinutesPerMinute: n(8) / 15 },
    paused: first(9).n === "1",
  };
}

export function queueStats(db: Database, now: number): QueueStats {
  // One read transaction, so the numbers describe one moment.
  return db.transaction(() =>
    statsFromRows(
      statsQueries(now).map((q) => db.query<Row, number[]>(q.sql).all(...q.params)),
      now,
    ),
  )();
}
