// Resolver plan progress (which resolvers ran, what each candidate yielded) saved on the job, so
// a retry continues where the last attempt stopped. Guarded by the lease token like every write.
import type { Database } from "bun:sqlite";

const SAVE_PROGRESS = `UPDATE jobs SET progress = ?3, updated_at = ?4
  WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'`;

export function saveProgress(
  db: Database,
  jobId: number,
  token: string,
  progress: unknown,
  now: number,
): boolean {
  const json = progress === undefined || progress === null ? null : JSON.stringify(progress);
  return db.query(SAVE_PROGRESS).run(jobId, token, json, now).changes === 1;
}
