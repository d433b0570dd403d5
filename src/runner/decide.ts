// How a finished step becomes one state change of its job: ack (done/skipped), fail (retry or
// error), release (back to the queue without counting an attempt) or abandon (the lease is gone,
// so nothing may be written). The commit is the store's own shape (JobCommit) less the lease that
// fences it, built here and nowhere else. Pure, so every combination is unit-tested.
import type { Reason } from "../core/reasons.ts";
import type { JobCommit } from "../store/types.ts";
import type { StepResult } from "./step.ts";

/** Why the job's work was aborted from outside, if it was. */
export type AbortCause = "lease_lost" | "shutdown";

/** Reasons that mean "deliberately not fetched" (SPEC 3): the job is skipped, not failed. */
export const SKIP_REASONS: ReadonlySet<Reason> = new Set<Reason>(["robots_disallowed", "url_refused"]);

/**
 * Reasons that are the library's trouble, not the work's (its disk is full, its object store is down
 * after the upload's retries): the job goes back to the queue until `retryAt` without an attempt
 * counted (for a full disk the runner also stops leasing until space returns).
 */
export const RELEASE_REASONS: ReadonlySet<Reason> = new Set<Reason>(["disk_full", "store_unavailable"]);

type Unfenced<C> = C extends unknown ? Omit<C, "jobId" | "token"> : never;

/** A store commit before the job's lease (id, token) is attached; `abandon` writes nothing. */
export type Commit = Unfenced<JobCommit> | { kind: "abandon" };

export function decideCommit(step: StepResult, cause: AbortCause | undefined): Commit {
  if (cause === "lease_lost") return { kind: "abandon" };
  const { attempts } = step;
  if (step.ok) {
    const outcome = { state: "done" as const, reason: step.reason, ...step.detail, attempts };
    return {
      kind: "ack",
      outcome: {
        ...outcome,
        message: step.detail.message ?? null,
        ...(step.stored ? { stored: step.stored } : {}),
      },
    };
  }
  const { progress } = step;
  // Work cut short by shutdown is handed back whole: the next runner continues from its progress.
  if (cause === "shutdown") return { kind: "release", attempts, progress };
  if (RELEASE_REASONS.has(step.reason)) return { kind: "release", until: step.retryAt, attempts, progress };
  if (!step.transient && SKIP_REASONS.has(step.reason)) {
    const message = step.message;
    return {
      kind: "ack",
      outcome: { state: "skipped", reason: step.reason, ...step.detail, message, attempts },
    };
  }
  if (step.transient && step.deferred && step.retryAt !== undefined)
    return { kind: "release", until: step.retryAt, attempts, progress };
  return {
    kind: "fail",
    failure: {
      reason: step.reason,
      message: step.message,
      transient: step.transient,
      retryAt: step.transient ? step.retryAt : undefined,
      attempts,
      detail: step.detail,
    },
    progress,
  };
}
