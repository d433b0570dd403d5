// Jobs whose leases keep expiring (the job crashes or hangs every runner that takes it) would be
// handed out forever: once an expired lease would be their last allowed try, they end in `error`
// with reason `lease_lost` instead, with an outcome like any other terminal failure.
import type { Database } from "bun:sqlite";

const EXHAUSTED = `FROM jobs INDEXED BY jobs_lease_expiry_idx
  WHERE state = 'in_progress' AND lease_expires_at <= ?1 AND attempts + 1 >= COALESCE(max_attempts, ?2)`;

const ANY_EXHAUSTED = `SELECT 1 AS found ${EXHAUSTED} LIMIT 1`;

const RECORD_OUTCOMES = `INSERT INTO outcomes (job_id, artifact_id, state, reason, message, first_attempt_at, finished_at, attempts)
  SELECT id, artifact_id, 'error', 'lease_lost', 'the lease expired on every try (the job stalls or crashes its runner)',
         first_attempt_at, ?1, attempts + 1
  ${EXHAUSTED}`;

const END_JOBS = `UPDATE jobs SET state = 'error', attempts = attempts + 1, last_reason = 'lease_lost',
    last_error = 'the lease expired on every try', lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
    updated_at = ?1
  WHERE id IN (SELECT id ${EXHAUSTED})`;

/** End exhausted expired jobs; returns how many. A cheap index probe when there are none. */
export function prepareReap(db: Database): (now: number, maxAttempts: number) => number {
  const probe = db.query(ANY_EXHAUSTED);
  const record = db.query(RECORD_OUTCOMES);
  const end = db.query(END_JOBS);
  const tx = db.transaction((now: number, maxAttempts: number): number => {
    record.run(now, maxAttempts);
    return end.run(now, maxAttempts).changes;
  });
  return (now, maxAttempts) => (probe.get(now, maxAttempts) === null ? 0 : tx.immediate(now, maxAttempts));
}
