// Attempts: one row per candidate tried (SPEC 9). Written only while the writer holds the job's
// lease, inside the caller's transaction, so a zombie's attempts never land.
import type { Database } from "bun:sqlite";
import { redactUrl } from "../../core/redact.ts";
import type { AttemptRecord } from "../types.ts";

const INSERT_ATTEMPT = `INSERT INTO attempts
  (job_id, lease_token, resolver, tier, url, host, http_status, reason, bytes, elapsed_ms, rate_wait_ms, at, role,
   held_back_ms)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)`;

const HOLDS_LEASE = "SELECT 1 AS held FROM jobs WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'";

export function holdsLease(db: Database, jobId: number, token: string): boolean {
  return db.query(HOLDS_LEASE).get(jobId, token) !== null;
}

/** Insert attempt rows; call inside a transaction that has checked the lease. */
export type InsertAttempts = (
  jobId: number,
  token: string,
  attempts: readonly AttemptRecord[],
  now: number,
) => void;

/** The attempt insert for one connection, prepared once (finishing jobs run it). */
export function prepareInsertAttempts(db: Database): InsertAttempts {
  const insert = db.query(INSERT_ATTEMPT);
  return (jobId, token, attempts, now) => {
    for (const a of attempts) {
      insert.run(
        jobId,
        token,
        a.resolver ?? null,
        a.tier ?? null,
        a.url == null ? null : redactUrl(a.url),
        a.host ?? null,
        a.httpStatus ?? null,
        a.reason ?? null,
        a.bytes ?? null,
        a.elapsedMs ?? null,
        a.rateWaitMs ?? null,
        a.at ?? now,
        a.role ?? null,
        a.heldBackMs ?? null,
      );
    }
  };
}

/** Record attempts for a held lease; false (nothing written) when the lease is lost. */
export function recordAttempts(
  db: Database,
  jobId: number,
  token: string,
  attempts: readonly AttemptRecord[],
  now: number,
): boolean {
  const insert = prepareInsertAttempts(db);
  return db
    .transaction(() => {
      if (!holdsLease(db, jobId, token)) return false;
      insert(jobId, token, attempts, now);
      return true;
    })
    .immediate();
}
