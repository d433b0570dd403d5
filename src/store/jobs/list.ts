// Listing jobs for `queue list` and the status API: filter by state and last reason, newest job
// first, paged by a cursor (the last job id seen) so deep pages cost no more than the first.
import type { Database } from "bun:sqlite";
import type { JobPage, ListFilter } from "../types.ts";
import { JOB_COLUMNS, type JobRecord, toJobRow } from "./rows.ts";

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 10_000;

export function listJobs(db: Database, filter: ListFilter = {}): JobPage {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.state) {
    params.push(filter.state);
    where.push(`state = ?${params.length}`);
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
  const sql = `SELECT ${JOB_COLUMNS} FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY id DESC LIMIT ?${params.length}`;
  const rows = db.query<JobRecord, (string | number)[]>(sql).all(...params);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { jobs: page.map(toJobRow), nextCursor: more ? String(page[page.length - 1]?.id) : null };
}
