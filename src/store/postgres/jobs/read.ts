// The read side: stats (one statement, so the numbers describe one moment and one clock), list
// (newest first, cursor paged), show (a job with its attempts and outcomes).
import type { SQL } from "bun";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "../../jobs/list.ts";
import { statsFromRows } from "../../jobs/stats.ts";
import {
  isJobState,
  JOB_STATES,
  type JobDetail,
  type JobPage,
  type ListFilter,
  type QueueStats,
} from "../../types.ts";
import { num, PG_JOB_COLUMNS, pgAttemptRow, pgJobRow, pgOutcomeRow } from "./rows.ts";

const MINUTE = 60_000;

export async function queueStats(sql: SQL, clock: number | null): Promise<QueueStats> {
  const [r] = await sql<Record<string, string | null>[]>`
    WITH clock AS (SELECT docstokg_now_ms(${clock}::bigint) AS now)
    SELECT clock.now,
      (SELECT count(*) FROM jobs WHERE state = 'queued' AND available_at <= clock.now) AS ready,
      (SELECT min(available_at) FROM jobs WHERE state = 'queued' AND available_at <= clock.now) AS oldest,
      (SELECT count(*) FROM jobs WHERE state = 'queued' AND available_at > clock.now) AS delayed,
      (SELECT min(available_at) FROM jobs WHERE state = 'queued' AND available_at > clock.now) AS next,
      (SELECT count(*) FROM jobs WHERE state = 'in_progress') AS in_progress,
      (SELECT count(*) FROM jobs WHERE state = 'in_progress' AND lease_expires_at <= clock.now) AS expired,
      (SELECT count(*) FROM jobs WHERE state = 'error') AS error,
      (SELECT count(*) FROM jobs WHERE state = 'skipped') AS skipped,
      (SELECT count(*) FROM jobs) AS total,
      (SELECT count(*) FROM outcomes WHERE finished_at > clock.now - ${MINUTE}::bigint) AS minute,
      (SELECT count(*) FROM outcomes WHERE finished_at > clock.now - ${15 * MINUTE}::bigint) AS quarter,
      (SELECT value FROM settings WHERE key = 'paused') AS paused
    FROM clock`;
  if (!r) throw new Error("stats: the database returned no row");
  const n = (k: string) => Number(r[k] ?? 0);
  const orNull = (k: string) => (r[k] === null || r[k] === undefined ? null : num(r[k]));
  return statsFromRows(
    [
      [{ n: n("ready"), oldest: orNull("oldest") }],
      [{ n: n("delayed"), next: orNull("next") }],
      [{ n: n("in_progress") }],
      [{ n: n("expired") }],
      [{ n: n("error") }],
      [{ n: n("skipped") }],
      [{ n: n("total") }],
      [{ n: n("minute") }],
      [{ n: n("quarter") }],
      [{ n: r.paused ?? undefined }],
    ],
    n("now"),
  );
}

export async function listJobs(sql: SQL, filter: ListFilter = {}): Promise<JobPage> {
  if (filter.state && !isJobState(filter.state)) {
    throw new RangeError(`state: expected one of ${JOB_STATES.join(", ")}`);
  }
  let before = Number.MAX_SAFE_INTEGER;
  if (filter.cursor) {
    before = Number(filter.cursor);
    if (!Number.isSafeInteger(before)) throw new RangeError("cursor: expected a cursor from a previous page");
  }
  const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT);
  const rows = await sql.unsafe<Record<string, unknown>[]>(
    `SELECT ${PG_JOB_COLUMNS} FROM jobs
     WHERE ($1::text IS NULL OR state = $1::text) AND ($2::text IS NULL OR last_reason = $2::text) AND id < $3::bigint
     ORDER BY id DESC LIMIT $4`,
    [filter.state ?? null, filter.reason ?? null, before, limit + 1],
  );
  const more = rows.length > limit;
  const page = (more ? rows.slice(0, limit) : rows).map(pgJobRow);
  return { jobs: page, nextCursor: more ? String(page[page.length - 1]?.id) : null };
}

/** The id of the job with this artifact id or numeric id, or null. */
export async function findJobId(sql: SQL, key: string | number): Promise<number | null> {
  if (typeof key === "string") {
    const [row] = await sql<{ id: string }[]>`SELECT id FROM jobs WHERE artifact_id = ${key}::text`;
    if (row) return num(row.id);
  }
  const id = typeof key === "number" ? key : /^\d+$/.test(key.trim()) ? Number(key.trim()) : Number.NaN;
  if (!Number.isSafeInteger(id)) return null;
  const [row] = await sql<{ id: string }[]>`SELECT id FROM jobs WHERE id = ${id}::bigint`;
  return row ? num(row.id) : null;
}

export async function showJob(sql: SQL, key: string | number): Promise<JobDetail | null> {
  // One snapshot, so the job, its attempts and its outcomes agree.
  return await sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
    const id = await findJobId(tx, key);
    if (id === null) return null;
    const [job] = await tx.unsafe<Record<string, unknown>[]>(
      `SELECT ${PG_JOB_COLUMNS} FROM jobs WHERE id = $1`,
      [id],
    );
    if (!job) return null;
    const attempts = await tx<
      Record<string, unknown>[]
    >`SELECT * FROM attempts WHERE job_id = ${id}::bigint ORDER BY id`;
    const outcomes = await tx<
      Record<string, unknown>[]
    >`SELECT * FROM outcomes WHERE job_id = ${id}::bigint ORDER BY seq`;
    return { job: pgJobRow(job), attempts: attempts.map(pgAttemptRow), outcomes: outcomes.map(pgOutcomeRow) };
  });
}
