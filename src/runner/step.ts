// What the runner asks of one job's work (resolve + download) and what it gets back. The step is
// injected: the product wires the tier plan and the download pipeline (pipeline.ts); benchmarks
// and tests wire their own, while lease, heartbeat and commit stay real.
import type { Failure } from "../core/reasons.ts";
import type { StoredUrlInput } from "../store/stored-urls.ts";
import type { AttemptRecord, LeasedJob, OutcomeDetail } from "../store/types.ts";
import type { Span } from "../telemetry/tracing.ts";

export interface StepContext {
  /** Aborted on lease loss (reason `lease_lost`) or at the end of the shutdown grace. */
  signal: AbortSignal;
  /** Persist plan progress while working (throttled, guarded by the lease token). */
  saveProgress(progress: unknown): void;
  /** The job's root span: the step's spans (tiers, requests, downloads) are its children. */
  span?: Span;
}

interface StepCommon {
  /** Candidates tried, written with the job's commit. */
  attempts: AttemptRecord[];
  /** Plan progress to keep with the job when it is tried again. */
  progress?: unknown;
  /** Body bytes received while working (telemetry). */
  bytes?: number;
}

export interface StepObtained extends StepCommon {
  ok: true;
  reason: "ok" | "duplicate_content" | "not_modified";
  detail: OutcomeDetail;
  /** The URL index entry to commit with the ack (absent when a stored file was reused as is). */
  stored?: StoredUrlInput;
}

/** The plan's failure (reason, transient, message, retryAt) with what the step gathered. */
export interface StepFailed extends StepCommon, Failure {
  ok: false;
  /**
   * Nothing failed but politeness: every transient failure was this process's own limiter refusing
   * to wait longer than `politeness.max_wait_s`. The job goes back to the queue without an attempt.
   */
  deferred: boolean;
  detail?: OutcomeDetail;
}

export type StepResult = StepObtained | StepFailed;

export type JobStep = (job: LeasedJob, ctx: StepContext) => Promise<StepResult>;
