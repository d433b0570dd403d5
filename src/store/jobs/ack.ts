// Completing a job: done/skipped, its outcome row and its attempts commit together or not at all,
// and only for the holder of the current lease token (a zombie's ack changes nothing).
import type { Database } from "bun:sqlite";
import type { AckInput } from "../types.ts";
import { insertAttempts } from "./attempts.ts";
import { insertOutcome } from "./outcome.ts";

const COMPLETE_JOB = `UPDATE jobs SET state = ?3, attempts = attempts + 1, last_reason = ?4, last_error = ?5,
    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?6
  WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'
  RETURNING artifact_id, attempts, first_attempt_at`;

interface Completed {
  artifact_id: string;
  attempts: number;
  first_attempt_at: number | null;
}

/**
 * The ack operation for one connection: statements prepared and the transaction wrapped once,
 * because this runs once per job.
 */
export function prepareAck(
  db: Database,
): (jobId: number, token: string, outcome: AckInput, now: number) => boolean {
  const complete = db.query<Completed, [number, string, string, string, string | null, number]>(COMPLETE_JOB);
  const tx = db.transaction((jobId: number, token: string, outcome: AckInput, now: number): boolean => {
    const done = complete.get(jobId, token, outcome.state, outcome.reason, outcome.message ?? null, now);
    if (done === null) return false;
    insertAttempts(db, jobId, token, outcome.attempts ?? [], now);
    insertOutcome(
      db,
      {
        jobId,
        artifactId: done.artifact_id,
        state: outcome.state,
        reason: outcome.reason,
        firstAttemptAt: done.first_attempt_at,
        finishedAt: now,
        attempts: done.attempts,
      },
      outcome,
    );
    return true;
  });
  return (jobId, token, outcome, now) => tx.immediate(jobId, token, outcome, now);
}
