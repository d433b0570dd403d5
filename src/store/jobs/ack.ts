// Completing a job: done/skipped, its outcome row, its attempts and the URL index entry of its
// stored file commit together or not at all, and only for the holder of the current lease token
// (a zombie's ack changes nothing).
import type { Database } from "bun:sqlite";
import { prepareRecordStoredUrl } from "../stored-urls.ts";
import type { AckInput } from "../types.ts";
import { prepareInsertAttempts } from "./attempts.ts";
import { prepareInsertOutcome } from "./outcome.ts";

// RETURNING hands back what the outcome row needs, so the job is not read a second time.
const COMPLETE_JOB = `UPDATE jobs SET state = ?3, attempts = attempts + 1, last_reason = ?4, last_error = ?5,
    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?6
  WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'
  RETURNING artifact_id, attempts, first_attempt_at`;

interface Completed {
  artifact_id: string;
  attempts: number;
  first_attempt_at: number | null;
}

/** One ack's statements, to run inside a transaction the caller holds (alone, or one of a batch). */
export type AckStep = (jobId: number, token: string, outcome: AckInput, now: number) => boolean;

/** The ack statements for one connection, prepared once because they run once per job. */
export function prepareAckStep(db: Database): AckStep {
  const complete = db.query<Completed, [number, string, string, string, string | null, number]>(COMPLETE_JOB);
  const insertAttempts = prepareInsertAttempts(db);
  const insertOutcome = prepareInsertOutcome(db);
  const recordStoredUrl = prepareRecordStoredUrl(db);
  return (jobId, token, outcome, now) => {
    const done = complete.get(jobId, token, outcome.state, outcome.reason, outcome.message ?? null, now);
    if (done === null) return false;
    insertAttempts(jobId, token, outcome.attempts ?? [], now);
    insertOutcome(
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
    if (outcome.stored && outcome.state === "done") recordStoredUrl(outcome.stored, done.artifact_id, now);
    return true;
  };
}

/** The ack operation as its own transaction. */
export function prepareAck(db: Database): AckStep {
  const tx = db.transaction(prepareAckStep(db));
  return (jobId, token, outcome, now) => tx.immediate(jobId, token, outcome, now);
}
