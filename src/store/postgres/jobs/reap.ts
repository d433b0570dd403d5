// Jobs whose leases keep expiring end in `error` (lease_lost) once an expired lease would be their
// last allowed try, with an outcome like any terminal failure: ONE statement (the update and the
// outcome rows together), skipping rows another runner is reaping at the same moment.
import type { SQL } from "bun";

export async function reapExhausted(sql: SQL, maxAttempts: number, clock: number | null): Promise<number> {
  const [row] = await sql<{ n: string }[]>`
    WITH clock AS (SELECT docstokg_now_ms(${clock}::bigint) AS now),
    exhausted AS (
      SELECT id FROM jobs
      WHERE state = 'in_progress' AND lease_expires_at <= (SELECT now FROM clock)
        AND attempts + 1 >= COALESCE(max_attempts, ${maxAttempts}::integer)
      FOR UPDATE SKIP LOCKED),
    ended AS (
      UPDATE jobs j SET state = 'error', attempts = j.attempts + 1, last_reason = 'lease_lost',
        last_error = 'the lease expired on every try', lease_token = NULL, lease_owner = NULL,
        lease_expires_at = NULL, updated_at = clock.now
      FROM exhausted, clock WHERE j.id = exhausted.id
      RETURNING j.id, j.artifact_id, j.first_attempt_at, j.attempts, clock.now AS now),
    recorded AS (
      INSERT INTO outcomes (job_id, artifact_id, state, reason, message, first_attempt_at, finished_at, attempts)
      SELECT id, artifact_id, 'error', 'lease_lost',
        'the lease expired on every try (the job stalls or crashes its runner)', first_attempt_at, now, attempts
      FROM ended ORDER BY id)
    SELECT count(*) AS n FROM ended`;
  return Number(row?.n ?? 0);
}
