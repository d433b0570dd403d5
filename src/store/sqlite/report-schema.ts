// Schema version 4 on SQLite: what the report needs beyond the queue and politeness tables.
// Attempts learn their politeness role (the metadata rate-wait objective reads it), per-host waits
// and stored digests get indexes to be walked in order, and breaker openings are counted by a
// trigger on host_state, so the politeness code keeps writing its rows exactly as before.
import type { Database } from "bun:sqlite";

export const REPORT_SCHEMA_V4 = `
-- NULL for attempts recorded before this column existed and for writers that do not say:
-- the report counts those as artifact downloads (candidate tries are).
ALTER TABLE attempts ADD COLUMN role TEXT;

-- The per-host rate-wait percentiles walk this index in order (no sort), and per-host counts use it.
CREATE INDEX attempts_host_idx ON attempts (host, rate_wait_ms);

-- report --verify walks the distinct stored digests in keyset pages from this index.
CREATE INDEX outcomes_sha256_idx ON outcomes (sha256) WHERE sha256 IS NOT NULL;

CREATE TABLE host_breaker_openings (
  host           TEXT PRIMARY KEY,
  openings       INTEGER NOT NULL DEFAULT 0,
  last_opened_at INTEGER NOT NULL
) WITHOUT ROWID;

-- host_state rows are written with INSERT OR REPLACE: BEFORE INSERT still sees the old row, so a
-- transition into 'open' (from closed, half-open or no row at all) is one opening; an open host whose
-- row is rewritten for another reason is not.
CREATE TRIGGER host_breaker_opened_insert BEFORE INSERT ON host_state
WHEN NEW.breaker = 'open'
  AND NOT EXISTS (SELECT 1 FROM host_state WHERE host = NEW.host AND breaker = 'open')
BEGIN
  INSERT INTO host_breaker_openings (host, openings, last_opened_at) VALUES (NEW.host, 1, NEW.updated_at)
  ON CONFLICT (host) DO UPDATE SET openings = openings + 1, last_opened_at = NEW.updated_at;
END;

CREATE TRIGGER host_breaker_opened_update AFTER UPDATE OF breaker ON host_state
WHEN NEW.breaker = 'open' AND OLD.breaker <> 'open'
BEGIN
  INSERT INTO host_breaker_openings (host, openings, last_opened_at) VALUES (NEW.host, 1, NEW.updated_at)
  ON CONFLICT (host) DO UPDATE SET openings = openings + 1, last_opened_at = NEW.updated_at;
END;
`;

export function createReportSchema(db: Database): void {
  db.run(REPORT_SCHEMA_V4);
}

/**
 * Migration 10: the part of an attempt's rate wait spent in cool-downs a host imposed (429/503,
 * Retry-After, backoff), apart from the configured pacing, which a polite run waits by design.
 * NULL for attempts recorded before (the objective leaves them out) and for candidate downloads.
 */
export function addHeldBackWait(db: Database): void {
  db.run("ALTER TABLE attempts ADD COLUMN held_back_ms INTEGER");
}
