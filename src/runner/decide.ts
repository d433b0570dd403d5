// How a finished step becomes one state change of its job: ack (done/skipped), fail (retry or
// error), release (back to the queue without counting an attempt) or abandon (the lease is gone,
// so nothing may be written). Pure, so every combination is unit-tested.
import type { Reason } from "../core/reasons.ts";
import type { StoredUrlInput } from "../store/stored-urls.ts";
import type { AttemptRecord, OutcomeDetail } from "../store/types.ts";
import type { StepResult } from "./step.ts";

/** Why the job's work was aborted from outside, if it was. */
export type AbortCause = "lease_lost" | "shutdown";

/** Reasons that mean "deliberately not fetched" (SPEC 3): the job is skipped, not failed. */
export const SKIP_REASONS: ReadonlySet<Reason> = new Set<Reason>(["robots_disallowed", "url_refused"]);

export type Commit =
  | {
      kind: "ack";
      state: "done" | "skipped";
      reason: string;
      message?: string;
      detail: OutcomeDetail;
      attempts: AttemptRecord[];
      stored?: StoredUrlInput;
    }
  | {
      kind: "fail";
      reason: string;
      message: string;
      transient: boolean;
      retryAt?: number;
      detail?: OutcomeDetail;
      attempts: AttemptRecord[];
      progress?: unknown;
    }
  | { kind: "release"; until?: number; attempts: AttemptRecord[]; progress?: unknown }
  | { kind: "abandon" };

export function decideCommit(step: StepResult, cause: AbortCause | undefined): Commit {
  if (cause === "lease_lost") return { kind: "abandon" };
  if (step.ok) {
    return {
      kind: "ack",
      state: "done",
      reason: step.reason,
      detail: step.detail,
      attempts: step.attempts,
      ...(step.stored ? { stored: step.stored } : {}),
    };
  }
  // Work cut short by shutdown is handed back whole: the next runner continues from its progress.
  if (cause === "shutdown") return { kind: "release", attempts: step.attempts, progress: step.progress };
  // The library's disk is full, or its object store is down: not the work's fault, so no attempt is
  // counted (for a full disk the runner stops leasing until space returns).
  if (step.reason === "disk_full" || step.reason === "store_unavailable") {
    return { kind: "release", until: step.retryAt, attempts: step.attempts, progress: step.progress };
  }
  if (!step.transient && SKIP_REASONS.has(step.reason)) {
    return {
      kind: "ack",
      state: "skipped",
      reason: step.reason,
      message: step.message,
      detail: { ...step.detail, message: step.message },
      attempts: step.attempts,
    };
  }
  if (step.transient && step.deferred && step.retryAt !== undefined) {
    return { kind: "release", until: step.retryAt, attempts: step.attempts, progress: step.progress };
  }
  return {
    kind: "fail",
    reason: step.reason,
    message: step.message,
    transient: step.transient,
    retryAt: step.transient ? step.retryAt : undefined,
    detail: step.detail,
    attempts: step.attempts,
    progress: step.progress,
  };
}
