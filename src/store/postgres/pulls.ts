// OpenAlex pulls on PostgreSQL (migration 2's openalex_pulls; store/pulls.ts has the meaning): one
// statement per function, and a page's jobs enqueued in the same transaction as the cursor after it,
// guarded by the cursor the page was asked with, so a pull resumes exactly where it was committed.
import type { SQL } from "bun";
import { FIRST_CURSOR, type PageCommit, PullMovedError, type PullRow, type PullStore } from "../pulls.ts";
import { enqueueJobs } from "./jobs/enqueue.ts";
import { num, numOrNull } from "./jobs/rows.ts";

const COLUMNS =
  "id, filter, search, state, cursor, pages, works, queued, duplicate, invalid, count, cost_usd, page_cost_usd, error, created_at, updated_at";

function pullRow(r: Record<string, unknown>): PullRow {
  return {
    ...(r as unknown as PullRow),
    id: num(r.id),
    pages: num(r.pages),
    works: num(r.works),
    queued: num(r.queued),
    duplicate: num(r.duplicate),
    invalid: num(r.invalid),
    count: numOrNull(r.count),
    cost_usd: num(r.cost_usd),
    page_cost_usd: numOrNull(r.page_cost_usd),
    created_at: num(r.created_at),
    updated_at: num(r.updated_at),
  };
}

export async function findPull(sql: SQL, filter: string, search: string): Promise<PullRow | null> {
  const [r] = await sql.unsafe<Record<string, unknown>[]>(
    `SELECT ${COLUMNS} FROM openalex_pulls WHERE filter = $1 AND search = $2`,
    [filter, search],
  );
  return r ? pullRow(r) : null;
}

/** The pull of this filter + search, created when new; a failed one runs again, a done one stays done. */
export async function startPull(sql: SQL, filter: string, search: string, now: number): Promise<PullRow> {
  const [r] = await sql.unsafe<Record<string, unknown>[]>(
    `INSERT INTO openalex_pulls (filter, search, cursor, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (filter, search) DO UPDATE SET
       state = CASE WHEN openalex_pulls.state = 'failed' THEN 'running' ELSE openalex_pulls.state END,
       error = CASE WHEN openalex_pulls.state = 'failed' THEN NULL ELSE openalex_pulls.error END,
       updated_at = CASE WHEN openalex_pulls.state = 'failed' THEN $4 ELSE openalex_pulls.updated_at END
     RETURNING ${COLUMNS}`,
    [filter, search, FIRST_CURSOR, now],
  );
  return pullRow(r as Record<string, unknown>);
}

/** The pull's cursor and counts after a page, only if it still stands at the page's cursor. */
async function advancePull(sql: SQL, p: PageCommit, added: number): Promise<number> {
  const result = await sql.unsafe(
    `UPDATE openalex_pulls SET
       cursor = $3,
       state = CASE WHEN $3::text IS NULL THEN 'done' ELSE 'running' END,
       pages = pages + 1,
       works = works + $4,
       queued = queued + $5,
       duplicate = duplicate + $4 - $5,
       invalid = invalid + $6,
       count = $7,
       cost_usd = cost_usd + $8,
       page_cost_usd = $8,
       error = NULL,
       updated_at = $9
     WHERE id = $1 AND cursor = $2 AND state = 'running'`,
    [p.pullId, p.cursor, p.nextCursor, p.works.length, added, p.invalid, p.count, p.costUsd, p.now],
  );
  return result.count;
}

/** A page's jobs and the cursor after it, in one transaction; answers how many jobs were new. */
export async function commitPage(sql: SQL, p: PageCommit): Promise<number> {
  return await sql.begin(async (tx) => {
    const { added } = await enqueueJobs(tx, p.works, null);
    // Throwing rolls the jobs back with it: another process committed this page first.
    if ((await advancePull(tx, p, added)) !== 1)
      throw new PullMovedError(`pull ${p.pullId} is no longer at this page`);
    return added;
  });
}

export async function failPull(sql: SQL, pullId: number, error: string, now: number): Promise<void> {
  await sql`UPDATE openalex_pulls SET state = 'failed', error = ${error}, updated_at = ${now}::bigint
            WHERE id = ${pullId}::bigint AND state = 'running'`;
}

/** Every pull, most recently updated first. */
export async function listPulls(sql: SQL): Promise<PullRow[]> {
  const rows = await sql.unsafe<Record<string, unknown>[]>(
    `SELECT ${COLUMNS} FROM openalex_pulls ORDER BY updated_at DESC, id DESC`,
  );
  return rows.map(pullRow);
}

export function postgresPullStore(sql: SQL): PullStore {
  return {
    find: (filter, search) => findPull(sql, filter, search),
    start: (filter, search, now) => startPull(sql, filter, search, now),
    commitPage: (p) => commitPage(sql, p),
    fail: (pullId, error, now) => failPull(sql, pullId, error, now),
    list: () => listPulls(sql),
  };
}
