// One job from lease to commit: run the step with the job's persisted progress, then write its one
// state change (ack / fail / release) guarded by the lease token. A lost token changes nothing and
// the work is abandoned; the step's network work was already aborted by the orchestrator.
import { isRetryable } from "../store/postgres/retry.ts";
import type { FailResult, JobCommit, JobQueue, LeasedJob } from "../store/types.ts";
import type { Span } from "../telemetry/tracing.ts";
import { type AbortCause, type Commit, decideCommit } from "./decide.ts";
import type { JobStep, StepResult } from "./step.ts";

/** How long a job released because the database was unreachable waits before it is offered again. */
const STORE_RETRY_MS = 2_000;

/** A job this runner holds: leased, maybe not started yet. */
export interface HeldJob {
  job: LeasedJob;
  controller: AbortController;
  cause?: AbortCause;
  /** Set while the commit is being written: a heartbeat miss then is the commit itself. */
  committing?: boolean;
  /** Parked after a politeness deferral: when it may run again (epoch ms). */
  until?: number;
  /** The job's root span (one trace per lease), ended by the runner when its work is over. */
  span?: Span;
}

export interface JobOutcome {
  job: LeasedJob;
  step?: StepResult;
  commit: Commit;
  /** False when the commit found the lease gone (nothing was written). */
  committed: boolean;
  /** For a fail that took effect: retried later (`queued`) or ended (`error`). */
  failed?: FailResult;
  /** Kept leased by this runner to run again shortly, instead of released (nothing was written). */
  parked?: boolean;
}

export interface WorkerDeps {
  queue: JobQueue;
  /** Writes a fenced commit (default: at once, alone; the orchestrator batches them). */
  commit?: (commit: JobCommit) => Promise<boolean | FailResult>;
  step: JobStep;
  now: () => number;
  /** Least time between two progress saves of one job. */
  progressEveryMs: number;
  /** The lease was found lost while working (a progress save was refused). */
  onLeaseLost(held: HeldJob): void;
  onError?(job: LeasedJob, error: unknown): void;
  /**
   * Offered a politeness deferral (a release until `until` with nothing tried): true when the
   * runner keeps the job leased and runs it again at `until` without holding a worker meanwhile.
   */
  park?(held: HeldJob, until: number, progress: unknown): boolean;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runJob(held: HeldJob, deps: WorkerDeps): Promise<JobOutcome> {
  const { job } = held;
  const { queue } = deps;
  // A job that finishes within progressEveryMs never writes progress mid-way (one write less per
  // job); a longer one saves at most that often, so a crash loses at most that much of its work.
  let lastSave = deps.now();
  const saveProgress = (progress: unknown) => {
    const now = deps.now();
    if (now - lastSave < deps.progressEveryMs || held.controller.signal.aborted) return;
    lastSave = now;
    // Serialized now: the plan keeps mutating its progress object.
    const snapshot = JSON.parse(JSON.stringify(progress)) as unknown;
    queue.saveProgress(job.id, job.token, snapshot).then(
      (kept) => {
        if (!kept) deps.onLeaseLost(held);
      },
      (e) => deps.onError?.(job, e),
    );
  };

  let step: StepResult;
  try {
    step = await deps.step(job, { signal: held.controller.signal, saveProgress, span: held.span });
  } catch (e) {
    deps.onError?.(job, e);
    // The shared database went away under the step (a politeness or cache call after its retries):
    // not the work's fault, so the job goes back without an attempt, to be offered again shortly.
    if (isRetryable(e))
      step = {
        ok: false,
        reason: "store_unavailable",
        transient: true,
        deferred: false,
        message: `database unavailable: ${errorText(e)}`,
        retryAt: deps.now() + STORE_RETRY_MS,
        attempts: [],
      };
    // A defect in the step, not a property of the work: count an attempt so it cannot loop forever.
    else
      step = {
        ok: false,
        reason: "cancelled",
        transient: true,
        deferred: false,
        message: `internal error: ${errorText(e)}`,
        attempts: [],
      };
  }
  const commit = decideCommit(step, held.cause);
  if (
    commit.kind === "release" &&
    commit.until !== undefined &&
    !commit.attempts?.length &&
    !held.cause &&
    deps.park?.(held, commit.until, commit.progress)
  )
    return { job, step, commit, committed: true, parked: true };
  held.committing = true;
  const c = jobCommit(job, commit);
  const r = c === null ? false : await (deps.commit ? deps.commit(c) : write(queue, c));
  return { job, step, commit, committed: r !== false, failed: typeof r === "object" ? r : undefined };
}

/** The commit fenced by the job's lease (null: nothing to write). */
export function jobCommit(job: LeasedJob, commit: Commit): JobCommit | null {
  if (commit.kind === "abandon") return null;
  return { ...commit, jobId: job.id, token: job.token };
}

/** Writes one commit in its own transaction; false when the lease token no longer matches. */
export async function write(
  queue: Pick<JobQueue, "commitMany">,
  commit: JobCommit,
): Promise<boolean | FailResult> {
  const [r] = await queue.commitMany([commit]);
  if (!r?.ok) throw r?.error ?? new Error("commitMany returned no result");
  return r.value;
}
