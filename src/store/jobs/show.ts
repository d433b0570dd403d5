// One job in full for `queue show` and `/api/jobs/:id`: its row, every attempt and every outcome.
// Looked up by artifact id first, then by numeric job id.
import type { Database } from "bun:sqlite";
import type { JobDetail } from "../types.ts";
import {
  type AttemptRecordRow,
  JOB_COLUMNS,
  type JobRecord,
  type OutcomeRecordRow,
  toAttemptRow,
  toJobRow,
  toOutcomeRow,
} from "./rows.ts";

/** The job with this artifact id or numeric id, or null. */
export function findJob(db: Database, key: string | number): JobRecord | null {
  const byArtifact =
    typeof key === "string"
      ? db.query<JobRecord, [string]>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE artifact_id = ?1`).get(key)
      : null;
  if (byArtifact) return byArtifact;
  const id = typeof key === "number" ? key : /^\d+$/.test(key.trim()) ? Number(key.trim()) : Number.NaN;
  if (!Number.isSafeInteger(id)) return null;
  return db.query<JobRecord, [number]>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?1`).get(id);
}

export function showJob(db: Database, key: string | number): JobDetail | null {
  return db.transaction(() => {
    const job = findJob(db, key);
    if (!job) return null;
    const attempts = db
      .query<AttemptRecordRow, [number]>("SELECT * FROM attempts WHERE job_id = ?1 ORDER BY id")
      .all(job.id);
    const outcomes = db
      .query<OutcomeRecordRow, [number]>("SELECT * FROM outcomes WHERE job_id = ?1 ORDER BY seq")
      .all(job.id);
    return { job: toJobRow(job), attempts: attempts.map(toAttemptRow), outcomes: outcomes.map(toOutcomeRow) };
  })();
}
