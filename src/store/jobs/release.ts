// Giving a job back without counting a try (shutdown, a host cooling down, a politeness wait
// longer than max_wait): queued again, ready at `until`. Only the current lease holder may.
import type { Database } from "bun:sqlite";

const RELEASE_JOB = `UPDATE jobs SET state = 'queued', available_at = ?3,
    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?4
  WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'`;

export type ReleaseStep = (jobId: number, token: string, until: number, now: number) => boolean;

/** The release statement for one connection, prepared once; a single statement needs no transaction. */
export function prepareRelease(db: Database): ReleaseStep {
  const release = db.query(RELEASE_JOB);
  return (jobId, token, until, now) => release.run(jobId, token, Math.max(until, now), now).changes === 1;
}
