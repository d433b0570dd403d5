// Per-source daily usage (SPEC 16) in the queue database: one row per (source, UTC day) with the
// requests made, the USD spent when the source bills (OpenAlex), and what the source last announced
// about its budget. Every process on the database adds to the same rows, so quotas hold across them.
import type { Database } from "bun:sqlite";
import type { Maybe } from "./maybe.ts";

/** The usage table (SQLite: `sqliteUsageStore`; PostgreSQL: postgres/usage.ts). */
export interface UsageStore {
  /** Add one answer (or several) to the day's row: a single upsert, no read. */
  add(d: UsageDelta): Maybe<void>;
  read(source: string, day: string): Maybe<UsageRow | null>;
  /** Every source's row of one day, by source. */
  ofDay(day: string): Maybe<UsageRow[]>;
}

export function sqliteUsageStore(db: Database): UsageStore {
  return {
    add: (d) => recordUsage(db, d),
    read: (source, day) => readUsage(db, source, day),
    ofDay: (day) => usageOfDay(db, day),
  };
}

export function createUsageSchema(db: Database): void {
  // exhausted_until: the source said its budget is spent until then (epoch ms; 0 = it did not).
  db.run(`CREATE TABLE source_usage (
    source TEXT NOT NULL,
    day TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    remaining_usd REAL,
    limit_usd REAL,
    exhausted_until INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, day)
  ) WITHOUT ROWID`);
}

export interface UsageRow {
  source: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  requests: number;
  cost_usd: number;
  remaining_usd: number | null;
  limit_usd: number | null;
  exhausted_until: number;
  updated_at: number;
}

export interface UsageDelta {
  source: string;
  day: string;
  requests: number;
  costUsd: number;
  /** Announced by the source on this answer (kept as the latest word). */
  remainingUsd?: number;
  limitUsd?: number;
  /** The source said its budget is spent until then; only ever moves later within a day. */
  exhaustedUntil?: number;
  now: number;
}

const COLUMNS = "source, day, requests, cost_usd, remaining_usd, limit_usd, exhausted_until, updated_at";

/** Add one answer (or several) to the day's row: a single upsert, no read. */
export function recordUsage(db: Database, d: UsageDelta): void {
  db.query(
    `INSERT INTO source_usage (source, day, requests, cost_usd, remaining_usd, limit_usd, exhausted_until, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
     ON CONFLICT (source, day) DO UPDATE SET
       requests = requests + excluded.requests,
       cost_usd = cost_usd + excluded.cost_usd,
       remaining_usd = coalesce(excluded.remaining_usd, remaining_usd),
       limit_usd = coalesce(excluded.limit_usd, limit_usd),
       exhausted_until = max(exhausted_until, excluded.exhausted_until),
       updated_at = excluded.updated_at`,
  ).run(
    d.source,
    d.day,
    d.requests,
    d.costUsd,
    d.remainingUsd ?? null,
    d.limitUsd ?? null,
    d.exhaustedUntil ?? 0,
    d.now,
  );
}

export function readUsage(db: Database, source: string, day: string): UsageRow | null {
  return db
    .query<UsageRow, [string, string]>(`SELECT ${COLUMNS} FROM source_usage WHERE source = ?1 AND day = ?2`)
    .get(source, day);
}

/** Every source's row of one day, by source. */
export function usageOfDay(db: Database, day: string): UsageRow[] {
  return db
    .query<UsageRow, [string]>(`SELECT ${COLUMNS} FROM source_usage WHERE day = ?1 ORDER BY source`)
    .all(day);
}
