// A real SQLite queue in memory with a fixed clock and short backoff, for orchestrator tests.
import type { Database } from "bun:sqlite";
import { openDatabase } from "../../src/store/db.ts";
import { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";

export const FIXED_CLOCK = 1_700_000_000_000;

export function memoryQueue(now: () => number = () => FIXED_CLOCK): { db: Database; queue: SqliteJobQueue } {
  const db = openDatabase(":memory:");
  const queue = new SqliteJobQueue(
    db,
    { leaseTtlMs: 60_000, maxAttempts: 3, backoff: { baseMs: 1000, capMs: 1000 } },
    { now },
  );
  return { db, queue };
}
