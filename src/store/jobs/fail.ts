// A failed try: attempts+1, then back to queued after a jittered backoff (or the origin's
// Retry-After) while tries remain and the cause is transient; otherwise `error` with an outcome.
// Compare-and-set on the lease token like ack.

import type { Database } from "bun:sqlite";
import { redactText } from "../../core/redact.ts";
import type { FailInput, FailResult } from "../types.ts";
import { prepareInsertAttempts } from "./attempts.ts";
import { prepareInsertOutcome } from "./outcome.ts";

const HELD_JOB = `SELECT artifact_id, attempts, max_attempts, first_attempt_at FROM jobs
  WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'`;

const REQUEUE_AFTER_FAILURE = `UPDATE jobs SET state = 'queued', attempts = ?2, available_at = ?3,
    last_reason = ?4, last_error = ?5, lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
    updated_at = ?6
  WHERE id = ?1`;

const END_IN_ERROR = `UPDATE jobs SET state = 'error', attempts = ?2, last_reason = ?3, last_error = ?4,
    lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?5
  WHERE id = ?1`;

interface HeldJob {
  artifact_id: string;
  attempts: number;
  max_attempts: number | null;
  first_attempt_at: number | null;
}

export interface FailPolicy {
  maxAttempts: number;
  /** When the job, having failed `attempt` times, may run again (backoff or Retry-After). */
  retryAt(attempt: number, retryAfter: number | undefined): number;
}

export type FailOperation = (
  jobId: number,
  token: string,
  failure: FailInput,
  now: number,
  policy: FailPolicy,
) => FailResult | false;

/** One fail's statements, to run inside a transaction the caller holds (alone, or one of a batch). */
export function prepareFailStep(db: Database): FailOperation {
  const held = db.query<HeldJob, [number, string]>(HELD_JOB);
  const requeue = db.query(REQUEUE_AFTER_FAILURE);
  const end = db.query(END_IN_ERROR);
  const insertAttempts = prepareInsertAttempts(db);
  const insertOutcome = prepareInsertOutcome(db);
  return (jobId, token, failure, now, policy) => {
    const job = held.get(jobId, token);
    if (job === null) return false;
    const attempts = job.attempts + 1;
    const max = job.max_attempts ?? policy.maxAttempts;
    const message = failure.message == null ? null : redactText(failure.message);
    insertAttempts(jobId, token, failure.attempts ?? [], now);
    if (failure.transient && attempts < max) {
      const availableAt = policy.retryAt(attempts, failure.retryAt);
      requeue.run(jobId, attempts, availableAt, failure.reason, message, now);
      return { state: "queued", availableAt, attempts };
    }
    end.run(jobId, attempts, failure.reason, message, now);
    insertOutcome(
      {
        jobId,
        artifactId: job.artifact_id,
        state: "error",
        reason: failure.reason,
        firstAttemptAt: job.first_attempt_at,
        finishedAt: now,
        attempts,
      },
      { ...failure.detail, message },
    );
    return { state: "error", attempts };
  };
}

/** The fail operation as its own transaction (prepared once; it runs once per failed try). */
export function prepareFail(db: Database): FailOperation {
  const tx = db.transaction(prepareFailStep(db));
  return (jobId, token, failure, now, policy) => tx.immediate(jobId, token, failure, now, policy);
}
