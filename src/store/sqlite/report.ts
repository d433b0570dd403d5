// The aggregates of `report` on the SQLite state, one statement per function, all in one read
// transaction (sqliteReportRows). Percentiles are picked from sorted row streams in constant memory
// (core/percentiles.ts's nearest-rank picker), never by loading a column.
import type { Database } from "bun:sqlite";
import { GroupedPercentiles, sortedDistribution } from "../../core/percentiles.ts";
import type { Percentiles, ReportRows, YieldRows } from "../reads.ts";

// Each job's latest outcome, for jobs that are done now (a requeued job may have ended before). A
// full scan of outcomes in rowid order (NOT INDEXED) beats any index walk here: measured 4× faster
// than the planner's choice of the sha256 index at 200,000 outcomes.
const LATEST_DONE = `SELECT o.* FROM outcomes o NOT INDEXED JOIN jobs j ON j.id = o.job_id
  WHERE j.state = 'done' AND o.state = 'done'
    AND o.seq = (SELECT max(seq) FROM outcomes i WHERE i.job_id = o.job_id)`;

/**
 * An attempt that went out to the host: it answered, or the network failed on the way. Refusals
 * before sending (breaker open, robots, the URL gate, a limiter wait too long) are not requests.
 */
export const REACHED_HOST = "http_status IS NOT NULL OR reason IN ('timeout', 'conn_error', 'tls_error')";

/** attempts.role with NULL read as artifact: candidate tries recorded without a role are downloads. */
export const ROLE = "coalesce(role, 'artifact')";

/** The grouped counts yield is folded from; plain SQL, so they can also run on a query thread. */
export const YIELD_QUERIES = {
  tries: `SELECT resolver, count(*) AS n FROM attempts
           WHERE resolver IS NOT NULL AND ${ROLE} = 'artifact' GROUP BY resolver`,
  byResolver: `SELECT resolver, count(*) AS n FROM (${LATEST_DONE}) GROUP BY resolver`,
  byTier: `SELECT tier, count(*) AS n FROM (${LATEST_DONE}) GROUP BY tier ORDER BY tier IS NULL, tier`,
} as const;

/** Every limiter wait, host by host in ascending order: a walk of attempts_host_idx, no sort. */
export const HOST_WAITS = `SELECT host, rate_wait_ms AS w FROM attempts
  WHERE host IS NOT NULL AND rate_wait_ms IS NOT NULL ORDER BY host, rate_wait_ms`;

const NONE: Percentiles = { count: 0, p50: null, p95: null };

/** All of `report`'s aggregates at one moment (one read transaction, even while runners write). */
export function sqliteReportRows(db: Database): ReportRows {
  return db.transaction(
    (): ReportRows => ({
      jobsByState: jobsByState(db),
      byReason: byReason(db),
      yield: sqliteYieldRows(db),
      hosts: hostRequests(db),
      hostWaits: hostWaits(db),
      breakers: db
        .query<ReportRows["breakers"][number], []>("SELECT host, breaker, breaker_reason FROM host_state")
        .all(),
      openings: db
        .query<{ host: string; openings: number }, []>("SELECT host, openings FROM host_breaker_openings")
        .all(),
      rateWaitByRole: rateWaitByRole(db),
      metadataHeldBack: metadataHeldBack(db),
      timeToFirstPdf: timeToFirstPdf(db),
      bytes: bytesOf(db),
    }),
  )();
}

function jobsByState(db: Database): ReportRows["jobsByState"] {
  return db
    .query<{ state: string; n: number }, []>("SELECT state, count(*) AS n FROM jobs GROUP BY state")
    .all();
}

function byReason(db: Database): ReportRows["byReason"] {
  return db
    .query<{ state: string; reason: string; count: number }, []>(
      `SELECT state, coalesce(last_reason, 'unknown') AS reason, count(*) AS count FROM jobs
        WHERE state IN ('done', 'skipped', 'error') GROUP BY 1, 2
        ORDER BY CASE state WHEN 'done' THEN 0 WHEN 'skipped' THEN 1 ELSE 2 END, count DESC, reason`,
    )
    .all();
}

export function sqliteYieldRows(db: Database): YieldRows {
  return {
    tries: db.query<YieldRows["tries"][number], []>(YIELD_QUERIES.tries).all(),
    byResolver: db.query<YieldRows["byResolver"][number], []>(YIELD_QUERIES.byResolver).all(),
    byTier: db.query<YieldRows["byTier"][number], []>(YIELD_QUERIES.byTier).all(),
  };
}

function hostRequests(db: Database): ReportRows["hosts"] {
  return db
    .query<{ host: string; requests: number; r429: number }, []>(
      // A scan: the host index lacks status and reason, and lookups through it cost 4× more.
      `SELECT host, count(*) AS requests, sum(http_status = 429) AS r429 FROM attempts NOT INDEXED
        WHERE host IS NOT NULL AND (${REACHED_HOST}) GROUP BY host ORDER BY host`,
    )
    .all();
}

function hostWaits(db: Database): Map<string, Percentiles> {
  const counts = db
    .query<{ host: string; n: number }, []>(
      `SELECT host, count(*) AS n FROM attempts
        WHERE host IS NOT NULL AND rate_wait_ms IS NOT NULL GROUP BY host`,
    )
    .all();
  const picker = new GroupedPercentiles(new Map(counts.map((r) => [r.host, r.n])));
  for (const r of db.query<{ host: string; w: number }, []>(HOST_WAITS).iterate()) picker.push(r.host, r.w);
  return picker.result();
}

function rateWaitByRole(db: Database): Map<string, Percentiles> {
  const counts = db
    .query<{ role: string; n: number }, []>(
      `SELECT ${ROLE} AS role, count(*) AS n FROM attempts WHERE rate_wait_ms IS NOT NULL GROUP BY 1`,
    )
    .all();
  const picker = new GroupedPercentiles(new Map(counts.map((r) => [r.role, r.n])));
  const rows = db.query<{ role: string; w: number }, []>(
    `SELECT ${ROLE} AS role, rate_wait_ms AS w FROM attempts WHERE rate_wait_ms IS NOT NULL ORDER BY 1, 2`,
  );
  for (const r of rows.iterate()) picker.push(r.role, r.w);
  return picker.result();
}

const HELD_BACK = "FROM attempts WHERE role = 'metadata' AND held_back_ms IS NOT NULL";

function metadataHeldBack(db: Database): Percentiles {
  const n = db.query<{ n: number }, []>(`SELECT count(*) AS n ${HELD_BACK}`).get()?.n ?? 0;
  const rows = db.query<{ w: number }, []>(`SELECT held_back_ms AS w ${HELD_BACK} ORDER BY held_back_ms`);
  return sortedDistribution(
    (function* () {
      for (const r of rows.iterate()) yield r.w;
    })(),
    n,
  );
}

const FIRST_PDF = `SELECT o.finished_at - o.first_attempt_at AS ms FROM outcomes o
  WHERE o.seq IN (SELECT min(seq) FROM outcomes WHERE state = 'done' AND content_type = 'application/pdf'
                    AND first_attempt_at IS NOT NULL GROUP BY job_id)`;

function timeToFirstPdf(db: Database): Percentiles {
  const n = db.query<{ n: number }, []>(`SELECT count(*) AS n FROM (${FIRST_PDF})`).get()?.n ?? 0;
  const picker = new GroupedPercentiles(new Map([["", n]]));
  for (const r of db.query<{ ms: number }, []>(`${FIRST_PDF} ORDER BY ms`).iterate()) picker.push("", r.ms);
  return picker.result().get("") ?? NONE;
}

function bytesOf(db: Database): ReportRows["bytes"] {
  const r = db
    .query<{ files: number; stored: number | null; referenced: number | null }, []>(
      `SELECT count(*) AS files, sum(b) AS stored, (SELECT sum(bytes) FROM (${LATEST_DONE}) WHERE sha256 IS NOT NULL) AS referenced
         FROM (SELECT sha256, max(bytes) AS b FROM (${LATEST_DONE}) WHERE sha256 IS NOT NULL GROUP BY sha256)`,
    )
    .get();
  return { files: r?.files ?? 0, stored: r?.stored ?? 0, referenced: r?.referenced ?? 0 };
}
