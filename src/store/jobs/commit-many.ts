// Group commit: several finishing transitions (ack, fail, release) in ONE transaction, so jobs that
// finish together pay one commit instead of one each. Every item is still its own compare-and-set
// on its lease token with its own result, and an item that throws is undone alone (a savepoint):
// batching changes the cost of a commit, never what it means.
import type { Database } from "bun:sqlite";
import type { FailResult, JobCommit, JobCommitResult } from "../types.ts";
import { type AckStep, prepareAckStep } from "./ack.ts";
import { prepareInsertAttempts } from "./attempts.ts";
import { type FailPolicy, prepareFailStep } from "./fail.ts";
import { prepareSaveProgress } from "./progress.ts";
import { prepareRelease } from "./release.ts";

export type CommitMany = (commits: readonly JobCommit[], now: number) => JobCommitResult[];
type ApplyCommit = (commit: JobCommit, now: number) => boolean | FailResult;

/** The statements of one item, run inside the caller's transaction (or savepoint). */
function prepareApply(db: Database, failPolicy: (now: number) => FailPolicy): ApplyCommit {
  const ack: AckStep = prepareAckStep(db);
  const fail = prepareFailStep(db);
  const release = prepareRelease(db);
  const saveProgress = prepareSaveProgress(db);
  const insertAttempts = prepareInsertAttempts(db);
  return (c, now) => {
    switch (c.kind) {
      case "ack":
        return ack(c.jobId, c.token, c.outcome, now);
      case "fail":
        // The progress update is token-guarded too: a stale token changes nothing at all.
        if (c.progress !== undefined && !saveProgress(c.jobId, c.token, c.progress, now)) return false;
        return fail(c.jobId, c.token, c.failure, now, failPolicy(now));
      case "release": {
        if (c.progress !== undefined && !saveProgress(c.jobId, c.token, c.progress, now)) return false;
        if (!release(c.jobId, c.token, c.until ?? now, now)) return false;
        insertAttempts(c.jobId, c.token, c.attempts ?? [], now);
        return true;
      }
      default:
        throw new TypeError(`unknown commit kind ${JSON.stringify((c as { kind: unknown }).kind)}`);
    }
  };
}

/**
 * The batch operation for one connection. The common case (no item throws) runs the items straight
 * through one IMMEDIATE transaction; only when an item throws is the batch run again with a
 * savepoint per item, so the healthy path pays nothing for the isolation.
 */
export function prepareCommitMany(db: Database, failPolicy: (now: number) => FailPolicy): CommitMany {
  const apply = prepareApply(db, failPolicy);
  // Index of the item being applied, -1 outside the items (BEGIN, COMMIT).
  let current = -1;
  const straight = db.transaction((commits: readonly JobCommit[], now: number): JobCommitResult[] => {
    const out: JobCommitResult[] = [];
    for (let i = 0; i < commits.length; i++) {
      current = i;
      out.push({ ok: true, value: apply(commits[i] as JobCommit, now) });
    }
    current = -1;
    return out;
  });
  // Nested inside `isolated`, each call is a savepoint: an item that throws rolls back to it.
  const item = db.transaction(apply);
  const isolated = db.transaction((commits: readonly JobCommit[], now: number): JobCommitResult[] =>
    commits.map((c) => {
      try {
        return { ok: true, value: item(c, now) };
      } catch (error) {
        // Some errors (disk full, I/O) end the whole transaction: then nothing of the batch stands,
        // and carrying on would commit the remaining items one by one. The batch fails as a whole.
        if (!db.inTransaction) throw error;
        return { ok: false, error };
      }
    }),
  );
  return (commits, now) => {
    if (commits.length === 0) return [];
    current = -1;
    try {
      return straight.immediate(commits, now);
    } catch (error) {
      // BEGIN or COMMIT failed (busy past the timeout, I/O): no item is to blame, none took effect.
      if (current < 0) throw error;
      current = -1;
    }
    return isolated.immediate(commits, now);
  };
}
