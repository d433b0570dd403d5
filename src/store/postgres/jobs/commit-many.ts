// Group commit: several finishes in ONE transaction. Consecutive acks go as ONE statement
// (ack-many.ts: per-item token check and result), fails and releases as one statement each, all
// pipelined on the transaction's connection; a batch of acks alone needs no transaction at all (one
// statement is atomic), so the common case pays one round trip. When an item fails, the batch is
// undone and run again with a savepoint per item, so the failing item is undone alone and the
// others stand — batching changes the cost of a commit, never what it means.
import type { SQL } from "bun";
import type { FailResult, JobCommit, JobCommitResult } from "../../types.ts";
import { isRetryable } from "../retry.ts";
import { ackMany, type PreparedAck, prepareAck } from "./ack-many.ts";
import {
  ackJob,
  confirmAck,
  confirmFail,
  confirmRelease,
  type FailParams,
  type FinishContext,
  failJob,
  releaseJob,
} from "./finish.ts";

export interface CommitContext extends FinishContext {
  /** The fail parameters of one item (policy, jitter draw, Retry-After as a wait). */
  failParams(c: Extract<JobCommit, { kind: "fail" }>): FailParams;
  /** A release's `until` as a wait from now. */
  releaseDelay(until: number | undefined): number;
}

export async function applyCommit(sql: SQL, c: JobCommit, ctx: CommitContext): Promise<boolean | FailResult> {
  switch (c.kind) {
    case "ack":
      return await ackJob(sql, c.jobId, c.token, c.outcome, ctx);
    case "fail":
      return await failJob(sql, c.jobId, c.token, c.failure, ctx.failParams(c), ctx);
    case "release":
      return await releaseJob(
        sql,
        c.jobId,
        c.token,
        { delayMs: ctx.releaseDelay(c.until), attempts: c.attempts, progress: c.progress },
        ctx,
      );
    default:
      throw new TypeError(`unknown commit kind ${JSON.stringify((c as { kind: unknown }).kind)}`);
  }
}

/** Whether this token already finished the job (an earlier try whose COMMIT went unanswered). */
export async function confirmCommit(sql: SQL, c: JobCommit): Promise<boolean | FailResult> {
  switch (c.kind) {
    case "ack":
      return await confirmAck(sql, c.jobId, c.token);
    case "fail":
      return await confirmFail(sql, c.jobId, c.token);
    case "release":
      return await confirmRelease(sql, c.jobId, c.token);
    default:
      return false;
  }
}

/** The straight run in order: runs of acks (distinct jobs) as one statement each, other items alone. */
type Step = { acks: PreparedAck[] } | { index: number; commit: JobCommit };

/** Steps for the batch, and the results already known (an ack whose values cannot be stored). */
export function planCommits(commits: readonly JobCommit[]): {
  steps: Step[];
  known: Map<number, JobCommitResult>;
} {
  const steps: Step[] = [];
  const known = new Map<number, JobCommitResult>();
  let run: PreparedAck[] | null = null;
  let runJobs = new Set<number>();
  commits.forEach((c, index) => {
    if (c.kind !== "ack") {
      run = null;
      steps.push({ index, commit: c });
      return;
    }
    let item: PreparedAck;
    try {
      item = prepareAck(index, c.jobId, c.token, c.outcome);
    } catch (error) {
      // Refused before any SQL: nothing of it was written, exactly as its own statement would end.
      known.set(index, { ok: false, error });
      return;
    }
    // The same job twice must be two statements: the second sees what the first did.
    if (!run || runJobs.has(c.jobId)) {
      run = [];
      runJobs = new Set();
      steps.push({ acks: run });
    }
    run.push(item);
    runJobs.add(c.jobId);
  });
  return { steps, known };
}

async function runStep(sql: SQL, step: Step, ctx: CommitContext, out: JobCommitResult[]): Promise<void> {
  if ("acks" in step) {
    const acked = await ackMany(sql, step.acks, ctx);
    for (const a of step.acks) out[a.ord] = { ok: true, value: acked.has(a.ord) };
  } else {
    out[step.index] = { ok: true, value: await applyCommit(sql, step.commit, ctx) };
  }
}

async function straightRun(sql: SQL, commits: readonly JobCommit[], ctx: CommitContext) {
  const { steps, known } = planCommits(commits);
  const out: JobCommitResult[] = new Array(commits.length);
  for (const [i, r] of known) out[i] = r;
  if (steps.length === 0) return out;
  if (steps.length === 1 && "acks" in (steps[0] as Step)) {
    // One statement is its own transaction: no BEGIN and COMMIT round trips.
    await runStep(sql, steps[0] as Step, ctx, out);
    return out;
  }
  return await sql.begin(async (tx) => {
    const settled = await Promise.allSettled(steps.map((step) => runStep(tx, step, ctx, out)));
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    return out;
  });
}

export async function commitMany(
  sql: SQL,
  commits: readonly JobCommit[],
  ctx: CommitContext,
): Promise<JobCommitResult[]> {
  if (commits.length === 0) return [];
  try {
    return await straightRun(sql, commits, ctx);
  } catch (error) {
    // A lost connection fails the batch as a whole (the caller retries it); anything else is an
    // item's: redo the batch item by item.
    if (isRetryable(error)) throw error;
  }
  return await sql.begin(async (tx) => {
    const out: JobCommitResult[] = [];
    for (const c of commits) {
      try {
        out.push({ ok: true, value: await tx.savepoint((sp) => applyCommit(sp, c, ctx)) });
      } catch (error) {
        if (isRetryable(error)) throw error;
        out.push({ ok: false, error });
      }
    }
    return out;
  });
}
