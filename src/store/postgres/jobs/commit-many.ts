// Group commit: several finishes in ONE transaction. Every item is ONE statement (finish.ts), so the
// healthy path sends them all at once, pipelined on the transaction's connection, and pays one
// round trip and one commit for the batch. When an item fails, the batch is undone and run again with
// a savepoint per item, so the failing item is undone alone and the others stand — batching changes
// the cost of a commit, never what it means.
import type { SQL } from "bun";
import type { FailResult, JobCommit, JobCommitResult } from "../../types.ts";
import { isRetryable } from "../retry.ts";
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

/** An item failed inside the straight run: redo the batch item by item. */
class ItemFailed extends Error {}

export async function commitMany(
  sql: SQL,
  commits: readonly JobCommit[],
  ctx: CommitContext,
): Promise<JobCommitResult[]> {
  if (commits.length === 0) return [];
  try {
    return await sql.begin(async (tx) => {
      const settled = await Promise.allSettled(commits.map((c) => applyCommit(tx, c, ctx)));
      const failed = settled.find((s) => s.status === "rejected");
      if (failed) {
        // A lost connection fails the batch as a whole (the caller retries it); anything else is an item's.
        if (isRetryable(failed.reason)) throw failed.reason;
        throw new ItemFailed();
      }
      return settled.map((s) => ({
        ok: true,
        value: (s as PromiseFulfilledResult<boolean | FailResult>).value,
      }));
    });
  } catch (error) {
    if (!(error instanceof ItemFailed)) throw error;
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
