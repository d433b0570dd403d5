// The whole-queue reads (store/reads/types.ts) on PostgreSQL, one statement per function: outcome
// pages for `manifest export`, what `report --verify` re-hashes, and the status page's search,
// failures, yield and throughput chart. Report aggregates are in report.ts.
import type { SQL } from "bun";
import type { ReasonGroup } from "../../jobs/failures.ts";
import type { OutcomeWithArtifact } from "../../jobs/rows.ts";
import type { DigestRow, LinkRow, MinuteRow, QueuedWorkRow, StateReads } from "../../reads.ts";
import type { JobRow } from "../../types.ts";
import { num, numOrNull, PG_JOB_COLUMNS, pgJobRow } from "../jobs/rows.ts";
import { OUTCOME_COLUMNS, pgOutcomeWithArtifact } from "../outbox.ts";
import { postgresReportRows, postgresYieldRows } from "./report.ts";

/** Keyset page of outcomes by seq; the filters take neutral values (0, '') when not asked for. */
export async function outcomePage(
  sql: SQL,
  after: number,
  since: number,
  state: string,
  limit: number,
): Promise<OutcomeWithArtifact[]> {
  const rows = await sql.unsafe<Record<string, unknown>[]>(
    `SELECT ${OUTCOME_COLUMNS("o", "j")} FROM outcomes o LEFT JOIN jobs j ON j.id = o.job_id
      WHERE o.seq > $1 AND o.finished_at >= $2 AND ($3 = '' OR o.state = $3)
      ORDER BY o.seq LIMIT $4`,
    [after, since, state, limit],
  );
  return rows.map(pgOutcomeWithArtifact);
}

// Each done job's latest outcome that names a stored file by path.
const LINKS_WHERE = `FROM outcomes o JOIN jobs j ON j.id = o.job_id
  WHERE j.state = 'done' AND o.state = 'done' AND o.sha256 IS NOT NULL AND o.path IS NOT NULL AND o.seq > $1
    AND o.finished_at >= $2 AND o.seq = (SELECT max(seq) FROM outcomes i WHERE i.job_id = o.job_id)`;

export async function verifyTotal(sql: SQL, since: number): Promise<number> {
  const [r] = await sql.unsafe<{ n: string }[]>(
    `SELECT (SELECT count(DISTINCT sha256) FROM outcomes
              WHERE state = 'done' AND sha256 IS NOT NULL AND finished_at >= $2)
          + (SELECT count(*) ${LINKS_WHERE}) AS n`,
    [0, since],
  );
  return num(r?.n ?? 0);
}

export async function digestPage(
  sql: SQL,
  after: string,
  since: number,
  limit: number,
): Promise<DigestRow[]> {
  const rows = await sql.unsafe<Record<string, unknown>[]>(
    `SELECT sha256, max(content_type) AS content_type, max(bytes) AS bytes FROM outcomes
      WHERE state = 'done' AND sha256 IS NOT NULL AND sha256 COLLATE "C" > $1 AND finished_at >= $2
      GROUP BY sha256 ORDER BY sha256 COLLATE "C" LIMIT $3`,
    [after, since, limit],
  );
  return rows.map((r) => ({
    sha256: String(r.sha256),
    content_type: (r.content_type as string | null) ?? null,
    bytes: numOrNull(r.bytes),
  }));
}

export async function linkPage(sql: SQL, after: number, since: number, limit: number): Promise<LinkRow[]> {
  const rows = await sql.unsafe<Record<string, unknown>[]>(
    `SELECT o.seq, o.sha256, o.content_type, o.bytes, o.path ${LINKS_WHERE} ORDER BY o.seq LIMIT $3`,
    [after, since, limit],
  );
  return rows.map((r) => ({
    seq: num(r.seq),
    sha256: String(r.sha256),
    content_type: (r.content_type as string | null) ?? null,
    bytes: numOrNull(r.bytes),
    path: String(r.path),
  }));
}

export async function searchJobs(
  sql: SQL,
  artifactIds: readonly string[],
  jobId: number | null,
): Promise<JobRow[]> {
  const rows = await sql.unsafe<Record<string, unknown>[]>(
    `SELECT ${PG_JOB_COLUMNS} FROM jobs WHERE artifact_id = ANY($1::text[]) OR id = $2::bigint ORDER BY id`,
    [artifactIds, jobId],
  );
  return rows.map(pgJobRow);
}

/** Failed and skipped jobs by last reason with their newest examples, most frequent first. */
export async function failures(sql: SQL, examples = 3, maxGroups = 50): Promise<ReasonGroup[]> {
  const rows = await sql.unsafe<Record<string, unknown>[]>(
    `SELECT g.state, g.reason, g.n,
            (SELECT coalesce(json_agg(json_build_object('id', e.id, 'artifactId', e.artifact_id)), '[]')
               FROM (SELECT id, artifact_id FROM jobs
                      WHERE state = g.state AND last_reason IS NOT DISTINCT FROM g.reason
                      ORDER BY id DESC LIMIT $1) e) AS examples
       FROM (SELECT state, last_reason AS reason, count(*) AS n,
                    row_number() OVER (PARTITION BY state ORDER BY count(*) DESC, last_reason) AS rank
               FROM jobs WHERE state IN ('error', 'skipped') GROUP BY state, last_reason) g
      WHERE g.rank <= $2
      ORDER BY CASE g.state WHEN 'error' THEN 0 ELSE 1 END, g.n DESC, g.reason`,
    [examples, maxGroups],
  );
  return rows.map((r) => {
    const list = (typeof r.examples === "string" ? JSON.parse(r.examples) : r.examples) as {
      id: number | string;
      artifactId: string;
    }[];
    return {
      state: r.state as ReasonGroup["state"],
      reason: (r.reason as string | null) ?? null,
      count: num(r.n),
      examples: list.map((e) => ({ id: num(e.id), artifactId: e.artifactId })),
    };
  });
}

export async function outcomesAfter(
  sql: SQL,
  seq: number,
): Promise<{ n: number; b: number; s: number | null }> {
  const [r] = await sql<Record<string, unknown>[]>`
    SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b, max(seq) AS s FROM outcomes WHERE seq > ${seq}::bigint`;
  return { n: num(r?.n ?? 0), b: num(r?.b ?? 0), s: numOrNull(r?.s) };
}

export async function maxOutcomeSeq(sql: SQL): Promise<number> {
  const [r] = await sql<{ s: string | null }[]>`SELECT max(seq) AS s FROM outcomes`;
  return numOrNull(r?.s) ?? 0;
}

export async function outcomesPerMinute(sql: SQL, from: number): Promise<MinuteRow[]> {
  const rows = await sql<Record<string, unknown>[]>`
    SELECT finished_at / 60000 AS m, count(*) AS n, coalesce(sum(bytes), 0) AS b, max(seq) AS s
      FROM outcomes WHERE finished_at >= ${from}::bigint GROUP BY 1 ORDER BY 1`;
  return rows.map((r) => ({ m: num(r.m), n: num(r.n), b: num(r.b), s: num(r.s) }));
}

async function queuedWorkPage(sql: SQL, after: number, limit: number): Promise<QueuedWorkRow[]> {
  const rows = await sql<{ id: string; artifact: string; progress: string | null }[]>`
    SELECT id, artifact, progress FROM jobs
    WHERE state IN ('queued', 'in_progress') AND id > ${after}::bigint ORDER BY id LIMIT ${limit}::int`;
  return rows.map((r) => ({ id: num(r.id), artifact: r.artifact, progress: r.progress }));
}

export function postgresReads(sql: SQL): StateReads {
  return {
    ping: async () => {
      await sql`SELECT 1`;
      return true;
    },
    outcomePage: (after, since, state, limit) => outcomePage(sql, after, since, state, limit),
    reportRows: () => postgresReportRows(sql),
    verifyTotal: (since) => verifyTotal(sql, since),
    digestPage: (after, since, limit) => digestPage(sql, after, since, limit),
    linkPage: (after, since, limit) => linkPage(sql, after, since, limit),
    searchJobs: (ids, jobId) => searchJobs(sql, ids, jobId),
    failures: () => failures(sql),
    yieldRows: () => postgresYieldRows(sql),
    outcomesAfter: (seq) => outcomesAfter(sql, seq),
    maxOutcomeSeq: () => maxOutcomeSeq(sql),
    outcomesPerMinute: (from) => outcomesPerMinute(sql, from),
    queuedWorkPage: (after, limit) => queuedWorkPage(sql, after, limit),
    snapshot: (fn) =>
      sql.begin(async (tx) => {
        await tx`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`;
        return await fn(postgresReads(tx));
      }),
  };
}
