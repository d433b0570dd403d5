// Listing jobs for `queue list` and the status API: filter by state and last reason, newest job
// first, paged by a cursor (the last job id seen) so deep pages cost no more than the first, and
// failed or skipped jobs read through their partial indexes whatever their share of the queue.
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

// Indexes keyed by (last_reason, id): a page of their state across reasons is merged from the
// newest rows of each reason (found by skipping from one reason to the next), never sorted whole.
const REASON_INDEX: Partial<Record<JobState, string>> = {
  skipped: "jobs_skipped_idx",
  error: "jobs_error_idx",
};

function pageOf(rows: JobRecord[], limit: number): JobPage {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { jobs: page.map(toJobRow), nextCursor: more ? String(page[page.length - 1]?.id) : null };
}

/** Newest first across every reason of a failed or skipped state: reasons × (log n + limit) rows read. */
function listAcrossReasons(
  db: Database,
  state: JobState,
  index: string,
  before: number,
  limit: number,
): JobPage {
  const from = `FROM jobs INDEXED BY ${index} WHERE state = '${state}'`;
  const nextReason = db.query<{ r: string | null }, [string]>(
    `SELECT min(last_reason) AS r ${from} AND last_reason > ?1`,
  );
  const newest = db.query<JobRecord, [string, number, number]>(
    `SELECT ${JOB_COLUMNS} ${from} AND last_reason = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3`,
  );
  const newestUnreasoned = db.query<JobRecord, [number, number]>(
    `SELECT ${JOB_COLUMNS} ${from} AND last_reason IS NULL AND id < ?1 ORDER BY id DESC LIMIT ?2`,
  );
  const rows: JobRecord[] = newestUnreasoned.all(before, limit + 1);
  let reason = nextReason.get("")?.r ?? null;
  // An empty reason sorts first and is not found by "> ''": look it up on its own.
  rows.push(...newest.all("", before, limit + 1));
  for (let guard = 0; reason !== null && guard < 10_000; guard++) {
    rows.push(...newest.all(reason, before, limit + 1));
    reason = nextReason.get(reason)?.r ?? null;
  }
  rows.sort((a, b) => b.id - a.id);
  return pageOf(rows.slice(0, limit + 1), limit);
}

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
  const reasonIndex = filter.state ? REASON_INDEX[filter.state] : undefined;
  if (filter.state && reasonIndex && filter.reason === undefined) {
    const before = filter.cursor ? Number(filter.cursor) : Number.MAX_SAFE_INTEGER;
    return listAcrossReasons(db, filter.state, reasonIndex, before, limit);
  }
  params.push(limit + 1);
  const index = filter.state ? SMALL_STATE_INDEX[filter.state] : undefined;
  const sql = `SELECT ${JOB_COLUMNS} FROM jobs ${index ? `INDEXED BY ${index}` : ""} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY id DESC LIMIT ?${params.length}`;
  return pageOf(db.query<JobRecord, (string | number)[]>(sql).all(...params), limit);
}
