// Steering by command: move `error` jobs back to queued (optionally of one reason), or named jobs
// in any state but in_progress. A requeued job starts over: attempts and saved progress are reset.
import type { Database } from "bun:sqlite";
import type { RequeueResult } from "../types.ts";
import { findJob } from "./show.ts";

const RESET = `state = 'queued', attempts = 0, available_at = ?1, progress = NULL,
  lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1`;

export function retryFailedJobs(db: Database, now: number, reason?: string, dryRun = false): number {
  const filter = reason === undefined ? "" : "AND last_reason = ?2";
  const params: [number] | [number, string] = reason === undefined ? [now] : [now, reason];
  if (dryRun) {
    return (
      db
        .query<{ n: number }, (string | number)[]>(
          `SELECT count(*) AS n FROM jobs WHERE state = 'error' ${filter}`,
        )
        .get(...params)?.n ?? 0
    );
  }
  return db
    .transaction(
      () => db.query(`UPDATE jobs SET ${RESET} WHERE state = 'error' ${filter}`).run(...params).changes,
    )
    .immediate();
}

export function requeueJobs(db: Database, keys: readonly (string | number)[], now: number): RequeueResult {
  const result: RequeueResult = { requeued: [], notFound: [], inProgress: [] };
  const reset = db.query(`UPDATE jobs SET ${RESET} WHERE id = ?2 AND state <> 'in_progress'`);
  db.transaction(() => {
    for (const key of keys) {
      const job = findJob(db, key);
      if (!job) result.notFound.push(String(key));
      else if (reset.run(now, job.id).changes === 1) result.requeued.push(job.id);
      else result.inProgress.push(String(key));
    }
  }).immediate();
  return result;
}
