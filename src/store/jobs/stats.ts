// Queue statistics for `queue stats`, the status endpoint and the runner's drain check: counts by
// state, ready vs delayed, expired leases, oldest ready age and recent throughput from outcomes.
import type { Database } from "bun:sqlite";
import { JOB_STATES, type JobState, type QueueStats } from "../types.ts";
import { isPaused } from "./settings.ts";

const MINUTE = 60_000;

export function queueStats(db: Database, now: number): QueueStats {
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  // One read transaction, so the numbers describe one moment.
  return db.transaction(() => {
    for (const row of db
      .query<{ state: JobState; n: number }, []>("SELECT state, count(*) AS n FROM jobs GROUP BY state")
      .all()) {
      counts[row.state] = row.n;
    }
    const ready = db
      .query<{ n: number; oldest: number | null }, [number]>(
        "SELECT count(*) AS n, min(available_at) AS oldest FROM jobs WHERE state = 'queued' AND available_at <= ?1",
      )
      .get(now) ?? { n: 0, oldest: null };
    const delayed = db
      .query<{ n: number; next: number | null }, [number]>(
        "SELECT count(*) AS n, min(available_at) AS next FROM jobs WHERE state = 'queued' AND available_at > ?1",
      )
      .get(now) ?? { n: 0, next: null };
    const expired =
      db
        .query<{ n: number }, [number]>(
          "SELECT count(*) AS n FROM jobs WHERE state = 'in_progress' AND lease_expires_at <= ?1",
        )
        .get(now)?.n ?? 0;
    const finishedSince = (since: number) =>
      db
        .query<{ n: number }, [number]>("SELECT count(*) AS n FROM outcomes WHERE finished_at > ?1")
        .get(since)?.n ?? 0;
    const lastMinute = finishedSince(now - MINUTE);
    const last15 = finishedSince(now - 15 * MINUTE);
    return {
      counts,
      total: JOB_STATES.reduce((sum, s) => sum + counts[s], 0),
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
