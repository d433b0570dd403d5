// Resolver plan progress (which resolvers ran, what each candidate yielded) saved on the job, so
// a retry continues where the last attempt stopped. Guarded by the lease token like every write.
import type { Database } from "bun:sqlite";

const SAVE_PROGRESS = `UPDATE jobs SET progress = ?3, updated_at = ?4
  WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'`;

export type SaveProgress = (jobId: number, token: string, progress: unknown, now: number) => boolean;

/** The progress update for one connection, prepared once; a single statement needs no transaction. */
export function prepareSaveProgress(db: Database): SaveProgress {
  const save = db.query(SAVE_PROGRESS);
  return (jobId, token, progress, now) => {
    const json = progress === undefined || progress === null ? null : JSON.stringify(progress);
    return save.run(jobId, token, json, now).changes === 1;
  };
}
