// Schema version 1: the queue. Jobs, their attempts (every candidate tried), outcomes (one row per
// terminal transition, numbered by `seq` for the manifest outbox), settings (the pause flag) and
// the outbox high-water mark. A database left by the reference implementation is converted here.
import type { Database } from "bun:sqlite";
import { convertReferenceJobs, isReferenceJobsTable } from "./reference-import.ts";

export const QUEUE_SCHEMA_V1 = `
CREATE TABLE jobs (
  id               INTEGER PRIMARY KEY,
  artifact_id      TEXT    NOT NULL UNIQUE,
  artifact         TEXT    NOT NULL,             -- the normalized Artifact as JSON
  state            TEXT    NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'in_progress', 'done', 'skipped', 'error')),
  priority         INTEGER NOT NULL DEFAULT 0,    -- higher first
  attempts         INTEGER NOT NULL DEFAULT 0,    -- finished tries (ack, fail, expired lease)
  max_attempts     INTEGER,                       -- per-job override of queue.max_attempts
  available_at     INTEGER NOT NULL,              -- epoch ms; queued jobs are ready from then on
  lease_token      TEXT,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  first_attempt_at INTEGER,
  last_reason      TEXT,
  last_error       TEXT,
  progress         TEXT,                          -- resolver plan progress (JSON) kept across retries
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
-- Claiming walks this index in order; terminal rows are not in it, so they never slow a lease.
CREATE INDEX jobs_ready_idx ON jobs (priority DESC, available_at, id) WHERE state = 'queued';
-- Expired leases are found without touching healthy or terminal rows.
CREATE INDEX jobs_lease_expiry_idx ON jobs (lease_expires_at) WHERE state = 'in_progress';
-- Failed and skipped jobs by reason (retry-failed, list, counts). There is deliberately no index on
-- state for all rows: every lease and ack would pay two extra index writes for it.
CREATE INDEX jobs_error_idx ON jobs (last_reason) WHERE state = 'error';
CREATE INDEX jobs_skipped_idx ON jobs (last_reason) WHERE state = 'skipped';

CREATE TABLE attempts (
  id           INTEGER PRIMARY KEY,
  job_id       INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  lease_token  TEXT,
  resolver     TEXT,
  tier         INTEGER,
  url          TEXT,
  host         TEXT,
  http_status  INTEGER,
  reason       TEXT,
  bytes        INTEGER,
  elapsed_ms   INTEGER,
  rate_wait_ms INTEGER,
  at           INTEGER NOT NULL
);
CREATE INDEX attempts_job_idx ON attempts (job_id);

CREATE TABLE outcomes (
  -- Increasing in commit order: writers are serialized and rows are never deleted, so the next rowid
  -- is always max+1 (AUTOINCREMENT would cost every ack a write to sqlite_sequence).
  seq              INTEGER PRIMARY KEY,
  job_id           INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  artifact_id      TEXT    NOT NULL,
  state            TEXT    NOT NULL CHECK (state IN ('done', 'skipped', 'error')),
  reason           TEXT    NOT NULL,
  message          TEXT,
  resolver         TEXT,
  tier             INTEGER,
  url              TEXT,
  final_url        TEXT,
  sha256           TEXT,
  bytes            INTEGER,
  content_type     TEXT,
  path             TEXT,
  etag             TEXT,
  last_modified    TEXT,
  first_attempt_at INTEGER,
  finished_at      INTEGER NOT NULL,
  attempts         INTEGER NOT NULL
);
CREATE INDEX outcomes_job_idx ON outcomes (job_id);
-- Time windows over outcomes: throughput, the dashboard's history, report and export --since.
CREATE INDEX outcomes_finished_idx ON outcomes (finished_at);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- High-water marks of outboxes: the manifest appends outcomes with seq > high_water, then advances it.
CREATE TABLE outbox (
  name       TEXT PRIMARY KEY,
  high_water INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO outbox (name, high_water) VALUES ('manifest', 0);
`;

export function createQueueSchema(db: Database): void {
  const reference = isReferenceJobsTable(db);
  if (reference) db.run("ALTER TABLE jobs RENAME TO reference_jobs");
  db.run(QUEUE_SCHEMA_V1);
  if (reference) {
    convertReferenceJobs(db, "reference_jobs", Date.now());
    db.run("DROP TABLE reference_jobs");
  }
}
