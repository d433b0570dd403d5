// robots.txt verdicts on SQLite (robots_cache, migration 6), shared by every process on one state
// database; net/robots-store.ts has the meaning of a row, one statement per function here.
import type { Database } from "bun:sqlite";
import { type RobotsRow, type RobotsStore, robotsDetail, robotsFromRow } from "../../net/robots-store.ts";

/** Migration 6: one verdict per origin. */
export function createRobotsSchema(db: Database): void {
  db.run(`CREATE TABLE robots_cache (
    origin TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('rules', 'allow_all', 'unavailable')),
    detail TEXT,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID`);
}

export function selectRobots(db: Database, origin: string): RobotsRow | null {
  return db
    .query<RobotsRow, [string]>("SELECT kind, detail, expires_at FROM robots_cache WHERE origin = ?1")
    .get(origin);
}

export function upsertRobots(db: Database, origin: string, row: RobotsRow): void {
  db.query(
    `INSERT INTO robots_cache (origin, kind, detail, expires_at) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (origin) DO UPDATE SET kind = excluded.kind, detail = excluded.detail,
       expires_at = excluded.expires_at`,
  ).run(origin, row.kind, row.detail, row.expires_at);
}

export function sqliteRobotsStore(db: Database): RobotsStore {
  return {
    get(origin) {
      const row = selectRobots(db, origin);
      return row ? robotsFromRow(row) : undefined;
    },
    put(origin, e) {
      upsertRobots(db, origin, { kind: e.kind, detail: robotsDetail(e), expires_at: e.expires });
    },
  };
}
