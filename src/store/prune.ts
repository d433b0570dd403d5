// Removing old attempt rows (the per-candidate history) while keeping every outcome: the attempts
// table grows by several rows per job and dominates a large state. Both stores walk the table in
// windows of ids, one short transaction per window, and delete only rows of jobs in the chosen
// terminal states, so runners keep leasing and acking in between.
import type { Database } from "bun:sqlite";

/** Job states whose attempts may be pruned; queued and in_progress jobs keep their history. */
export const PRUNABLE_STATES = ["done", "skipped", "error"] as const;
export type PrunableState = (typeof PRUNABLE_STATES)[number];

export interface PruneOptions {
  /** Attempts at least this old (ms before now) go. */
  olderThanMs: number;
  states: readonly PrunableState[];
  /** Attempt ids examined per window (one transaction each). */
  batch?: number;
  /** Told after every window: rows deleted so far. */
  onBatch?: (deleted: number) => void;
}

export interface PruneSummary {
  deleted: number;
  /** The cutoff used (epoch ms): attempts with `at` before it were eligible. */
  before: number;
}

export const DEFAULT_PRUNE_BATCH = 10_000;

/** SQLite: the cutoff from this machine's clock (the database lives on it). */
export function pruneAttemptsSqlite(db: Database, o: PruneOptions, now = Date.now()): PruneSummary {
  const before = now - o.olderThanMs;
  const batch = o.batch ?? DEFAULT_PRUNE_BATCH;
  const states = JSON.stringify(o.states);
  const windowEnd = db.query<{ hi: number | null }, [number, number]>(
    "SELECT max(id) AS hi FROM (SELECT id FROM attempts WHERE id > ?1 ORDER BY id LIMIT ?2)",
  );
  const remove = db.query<unknown, [number, number, number, string]>(
    `DELETE FROM attempts WHERE id IN (
       SELECT a.id FROM attempts a JOIN jobs j ON j.id = a.job_id
       WHERE a.id > ?1 AND a.id <= ?2 AND a.at < ?3 AND j.state IN (SELECT value FROM json_each(?4)))`,
  );
  let deleted = 0;
  let after = 0;
  for (;;) {
    const hi = windowEnd.get(after, batch)?.hi;
    if (hi == null) break;
    deleted += remove.run(after, hi, before, states).changes;
    after = hi;
    o.onBatch?.(deleted);
  }
  return { deleted, before };
}
