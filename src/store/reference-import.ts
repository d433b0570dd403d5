// Databases written by the reference implementation (a `jobs` table with ISO-8601 text timestamps,
// `artifact_json`, `worker_id`, `lease_expires_at`, no version table) are converted in place by
// schema version 1: every job is copied with its state, attempts and availability.
import type { Database } from "bun:sqlite";

interface ColumnInfo {
  name: string;
}

function columns(db: Database, table: string): Set<string> {
  const rows = db.query<ColumnInfo, []>(`PRAGMA table_info("${table.replaceAll('"', '""')}")`).all();
  return new Set(rows.map((r) => r.name.toLowerCase()));
}

/** A `jobs` table that exists but is not ours: the reference implementation's queue. */
export function isReferenceJobsTable(db: Database): boolean {
  const cols = columns(db, "jobs");
  return cols.size > 0 && cols.has("artifact_id") && !cols.has("lease_token");
}

/** SQL turning a reference timestamp (ISO-8601 text, SQLite text, or epoch s/ms) into epoch ms. */
function epochMs(col: string): string {
  return `(CASE
    WHEN ${col} IS NULL OR ${col} = '' THEN NULL
    WHEN typeof(${col}) IN ('integer', 'real') THEN
      CASE WHEN ${col} > 100000000000 THEN CAST(${col} AS INTEGER) ELSE CAST(round(${col} * 1000) AS INTEGER) END
    ELSE CAST(round(unixepoch(${col}, 'subsec') * 1000) AS INTEGER)
  END)`;
}

const STATE_MAP = `(CASE lower(trim(COALESCE(state, '')))
    WHEN 'in_progress' THEN 'in_progress' WHEN 'leased' THEN 'in_progress' WHEN 'running' THEN 'in_progress'
    WHEN 'processing' THEN 'in_progress'
    WHEN 'done' THEN 'done' WHEN 'completed' THEN 'done' WHEN 'succeeded' THEN 'done' WHEN 'success' THEN 'done'
    WHEN 'skipped' THEN 'skipped'
    WHEN 'error' THEN 'error' WHEN 'failed' THEN 'error' WHEN 'failure' THEN 'error'
    ELSE 'queued' END)`;

/** Copy every row of the reference table `from` into the (empty) new `jobs` table. */
export function convertReferenceJobs(db: Database, from: string, now: number): number {
  const cols = columns(db, from);
  const has = (c: string) => cols.has(c);
  const payload = ["artifact_json", "payload", "artifact"].find(has);
  const payloadExpr = payload ? `CAST("${payload}" AS TEXT)` : "NULL";
  const artifact = `(CASE WHEN json_valid(${payloadExpr}) AND json_type(${payloadExpr}) = 'object'
      THEN json_set(${payloadExpr}, '$.id', artifact_id)
      ELSE json_object('id', artifact_id, 'meta', json_object('reference_payload', ${payloadExpr})) END)`;
  const priority = has("priority")
    ? "COALESCE(CAST(priority AS INTEGER), 0)"
    : `(CASE WHEN json_valid(${payloadExpr}) AND json_type(${payloadExpr}, '$.priority') IN ('integer', 'real')
        THEN json_extract(${payloadExpr}, '$.priority') ELSE 0 END)`;
  const created = has("created_at") ? epochMs("created_at") : "NULL";
  const updated = has("updated_at") ? epochMs("updated_at") : "NULL";
  const leaseExpires = has("lease_expires_at") ? epochMs("lease_expires_at") : "NULL";
  const availableAt = has("available_at") ? epochMs("available_at") : "NULL";
  const owner = has("worker_id") ? "worker_id" : "NULL";
  const lastError = has("last_error") ? "last_error" : "NULL";
  const attempts = has("attempts") ? "COALESCE(CAST(attempts AS INTEGER), 0)" : "0";
  const order = has("id") ? "ORDER BY id" : "";
  const idExpr = has("id") ? "CASE WHEN typeof(id) = 'integer' THEN id END" : "NULL";

  // The reference delayed retries by writing the retry time into lease_expires_at of a queued row.
  const sql = `
    INSERT INTO jobs (id, artifact_id, artifact, state, priority, attempts, available_at,
                      lease_owner, lease_expires_at, last_error, created_at, updated_at)
    SELECT id, artifact_id, artifact, state, priority, attempts,
           CASE WHEN state = 'queued' THEN COALESCE(available_at, lease_expires, created, $now)
                ELSE COALESCE(available_at, created, $now) END,
           CASE WHEN state = 'in_progress' THEN owner END,
           CASE WHEN state = 'in_progress' THEN COALESCE(lease_expires, $now) END,
           last_error, COALESCE(created, $now), COALESCE(updated, created, $now)
    FROM (
      SELECT ${idExpr} AS id, CAST(artifact_id AS TEXT) AS artifact_id, ${artifact} AS artifact,
             ${STATE_MAP} AS state, ${priority} AS priority, ${attempts} AS attempts,
             ${availableAt} AS available_at, ${leaseExpires} AS lease_expires, ${created} AS created,
             ${updated} AS updated, ${owner} AS owner, ${lastError} AS last_error
      FROM "${from}" WHERE artifact_id IS NOT NULL ${order}
    )`;
  return db.query(sql).run({ $now: now }).changes;
}
