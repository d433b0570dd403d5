// The aggregates of `report` on PostgreSQL, one statement per function, all in one REPEATABLE READ
// read-only transaction so every figure describes the same moment while runners write. Percentiles
// are percentile_disc, the nearest rank of telemetry/sli.ts, computed by the server: no rows travel.
import type { SQL } from "bun";
import type { Percentiles, ReportRows, YieldRows } from "../../reads.ts";
import { num, numOrNull } from "../jobs/rows.ts";

type Tx = SQL;

// Each job's latest outcome, for jobs that are done now (a requeued job may have ended before).
const LATEST_DONE = `SELECT o.* FROM outcomes o JOIN jobs j ON j.id = o.job_id
  WHERE j.state = 'done' AND o.state = 'done'
    AND o.seq = (SELECT max(seq) FROM outcomes i WHERE i.job_id = o.job_id)`;

/** An attempt that went out to the host: it answered, or the network failed on the way. */
const REACHED_HOST = "http_status IS NOT NULL OR reason IN ('timeout', 'conn_error', 'tls_error')";

const ROLE = "coalesce(role, 'artifact')";

const PICK = (column: string) =>
  `count(*) AS n, percentile_disc(0.5) WITHIN GROUP (ORDER BY ${column}) AS p50,
   percentile_disc(0.95) WITHIN GROUP (ORDER BY ${column}) AS p95`;

function percentiles(r: Record<string, unknown> | undefined): Percentiles {
  const count = num(r?.n ?? 0);
  return count === 0
    ? { count: 0, p50: null, p95: null }
    : { count, p50: numOrNull(r?.p50), p95: numOrNull(r?.p95) };
}

function grouped(rows: Record<string, unknown>[], key: string): Map<string, Percentiles> {
  return new Map(rows.map((r) => [String(r[key]), percentiles(r)]));
}

export async function postgresReportRows(sql: SQL): Promise<ReportRows> {
  return await sql.begin(async (tx) => {
    await tx`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`;
    return {
      jobsByState: await jobsByState(tx),
      byReason: await byReason(tx),
      yield: await postgresYieldRows(tx),
      hosts: await hostRequests(tx),
      hostWaits: await hostWaits(tx),
      breakers: await breakers(tx),
      openings: await openings(tx),
      rateWaitByRole: await rateWaitByRole(tx),
      metadataHeldBack: await metadataHeldBack(tx),
      timeToFirstPdf: await timeToFirstPdf(tx),
      bytes: await bytesOf(tx),
    };
  });
}

async function openings(tx: Tx): Promise<ReportRows["openings"]> {
  const rows = await tx<
    { host: string; openings: string }[]
  >`SELECT host, openings FROM host_breaker_openings`;
  return rows.map((r) => ({ host: r.host, openings: num(r.openings) }));
}

async function jobsByState(tx: Tx): Promise<ReportRows["jobsByState"]> {
  const rows = await tx<{ state: string; n: string }[]>`SELECT state, count(*) AS n FROM jobs GROUP BY state`;
  return rows.map((r) => ({ state: r.state, n: num(r.n) }));
}

async function byReason(tx: Tx): Promise<ReportRows["byReason"]> {
  const rows = await tx.unsafe<{ state: string; reason: string; count: string }[]>(
    `SELECT state, coalesce(last_reason, 'unknown') AS reason, count(*) AS count FROM jobs
      WHERE state IN ('done', 'skipped', 'error') GROUP BY 1, 2
      ORDER BY CASE state WHEN 'done' THEN 0 WHEN 'skipped' THEN 1 ELSE 2 END, count(*) DESC, 2`,
  );
  return rows.map((r) => ({ state: r.state, reason: r.reason, count: num(r.count) }));
}

async function yieldTries(tx: Tx): Promise<YieldRows["tries"]> {
  const rows = await tx.unsafe<{ resolver: string; n: string }[]>(
    `SELECT resolver, count(*) AS n FROM attempts
      WHERE resolver IS NOT NULL AND ${ROLE} = 'artifact' GROUP BY resolver`,
  );
  return rows.map((r) => ({ resolver: r.resolver, n: num(r.n) }));
}

async function yieldByResolver(tx: Tx): Promise<YieldRows["byResolver"]> {
  const rows = await tx.unsafe<{ resolver: string | null; n: string }[]>(
    `SELECT resolver, count(*) AS n FROM (${LATEST_DONE}) d GROUP BY resolver`,
  );
  return rows.map((r) => ({ resolver: r.resolver, n: num(r.n) }));
}

async function yieldByTier(tx: Tx): Promise<YieldRows["byTier"]> {
  const rows = await tx.unsafe<{ tier: number | null; n: string }[]>(
    `SELECT tier, count(*) AS n FROM (${LATEST_DONE}) d GROUP BY tier ORDER BY tier IS NULL, tier`,
  );
  return rows.map((r) => ({ tier: r.tier, n: num(r.n) }));
}

/** Yield's grouped counts (also the status page's front page). */
export async function postgresYieldRows(tx: Tx): Promise<YieldRows> {
  return {
    tries: await yieldTries(tx),
    byResolver: await yieldByResolver(tx),
    byTier: await yieldByTier(tx),
  };
}

async function hostRequests(tx: Tx): Promise<ReportRows["hosts"]> {
  const rows = await tx.unsafe<{ host: string; requests: string; r429: string }[]>(
    `SELECT host, count(*) AS requests, count(*) FILTER (WHERE http_status = 429) AS r429 FROM attempts
      WHERE host IS NOT NULL AND (${REACHED_HOST}) GROUP BY host ORDER BY host`,
  );
  return rows.map((r) => ({ host: r.host, requests: num(r.requests), r429: num(r.r429) }));
}

async function hostWaits(tx: Tx): Promise<Map<string, Percentiles>> {
  const rows = await tx.unsafe<Record<string, unknown>[]>(
    `SELECT host, ${PICK("rate_wait_ms")} FROM attempts
      WHERE host IS NOT NULL AND rate_wait_ms IS NOT NULL GROUP BY host`,
  );
  return grouped(rows, "host");
}

async function breakers(tx: Tx): Promise<ReportRows["breakers"]> {
  return await tx<ReportRows["breakers"]>`SELECT host, breaker, breaker_reason FROM host_state`;
}

async function rateWaitByRole(tx: Tx): Promise<Map<string, Percentiles>> {
  const rows = await tx.unsafe<Record<string, unknown>[]>(
    `SELECT ${ROLE} AS role, ${PICK("rate_wait_ms")} FROM attempts WHERE rate_wait_ms IS NOT NULL GROUP BY 1`,
  );
  return grouped(rows, "role");
}

async function metadataHeldBack(tx: Tx): Promise<Percentiles> {
  const [r] = await tx.unsafe<Record<string, unknown>[]>(
    `SELECT ${PICK("held_back_ms")} FROM attempts WHERE role = 'metadata' AND held_back_ms IS NOT NULL`,
  );
  return percentiles(r);
}

async function timeToFirstPdf(tx: Tx): Promise<Percentiles> {
  const [r] = await tx.unsafe<Record<string, unknown>[]>(
    `SELECT ${PICK("ms")} FROM (
       SELECT o.finished_at - o.first_attempt_at AS ms FROM outcomes o
        WHERE o.seq IN (SELECT min(seq) FROM outcomes WHERE state = 'done' AND content_type = 'application/pdf'
                          AND first_attempt_at IS NOT NULL GROUP BY job_id)) f`,
  );
  return percentiles(r);
}

async function bytesOf(tx: Tx): Promise<ReportRows["bytes"]> {
  const [r] = await tx.unsafe<Record<string, unknown>[]>(
    `SELECT count(*) AS files, sum(b) AS stored,
            (SELECT sum(bytes) FROM (${LATEST_DONE}) d WHERE sha256 IS NOT NULL) AS referenced
       FROM (SELECT sha256, max(bytes) AS b FROM (${LATEST_DONE}) d WHERE sha256 IS NOT NULL GROUP BY sha256) s`,
  );
  return { files: num(r?.files ?? 0), stored: num(r?.stored ?? 0), referenced: num(r?.referenced ?? 0) };
}
