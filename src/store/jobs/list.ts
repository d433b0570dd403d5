// Listing jobs for `queue list` and the status API: filter by state and last reason, newest job
// first, paged by a cursor (the last job id seen) so deep pages cost no more than the first.
import type { Database } from "bun:sqlite";
import { isJobState, JOB_STATES, type JobPage, type JobState, type ListFilter } from "../types.ts";
import { JOB_COLUMNS, type JobRecord, toJobRow } from "./rows.ts";

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 10_000;

// States that are few at any time are read through their partial index (then sorted); queued and
// done are common, and a backwards walk of the table finds a page of them at once.
const SMALL_STATE_INDEX: Partial<Record<JobState, string>> = {
  in_progress: "jobs_lease_expiry_idx",
  skipped: "jobs_skipped_idx",
  error: "jobs_error_idx",
};

export function listJobs(db: Database, filter: ListFilter = {}): JobPage {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.state) {
    // A literal, not a parameter: only then can SQLite use the partial index of that state.
    if (!isJobState(filter.state)) throw new RangeError(`state: expected one of ${JOB_STATES.join(", ")}`);
    where.push(`state = '${filter.state}'`);
  }
  if (filter.reason) {
    params.push(filter.reason);
    where.push(`last_reason = ?${params.length}`);
  }
  if (filter.cursor) {
    const after = Number(filter.cursor);
    if (!Number.isSafeInteger(after)) throw new RangeError(`cursor: expected a cursor from a previous page`);
    params.push(after);
    where.push(`id < ?${params.length}`);
  }
  const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT);
  params.push(limit + 1);
  const index = filter.state ? SMALL_STATE_INDEX[filter.state] : undefined;
  const sql = `SELECT ${JOB_COLUMNS} FROM jobs ${index ? `INDEXED BY ${index}` : ""} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY id DESC LIMIT ?${params.length}`;
  const rows = db.query<JobRecord, (string | number)[]>(sql).all(...params);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { jobs: page.map(toJobRow), nextCursor: more ? String(page[page.length - 1]?.id) : null };
}
