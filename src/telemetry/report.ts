// `docstokg report`: the run summary and service-level indicators read from the queue database —
// totals by state and reason, yield per resolver and tier, per-host politeness, time to first PDF,
// bytes and deduplication, and the objectives. Aggregates run in SQL; percentiles are picked from
// sorted row streams by the pure functions in sli.ts. The JSON form (version 1) is a stable contract
// documented in the README; report-text.ts renders the compact tables for people.
import type { Database } from "bun:sqlite";
import type { SourceUsage } from "../quota/gate.ts";
import {
  type Distribution,
  evaluateObjectives,
  GroupedPercentiles,
  type ObjectiveResult,
  type Objectives,
  ratio,
  sortedDistribution,
} from "./sli.ts";
import type { VerifySummary } from "./verify.ts";

export const REPORT_VERSION = 1;

const STATES = ["queued", "in_progress", "done", "skipped", "error"] as const;
export const ROLES = ["metadata", "landing", "artifact"] as const;
type RoleName = (typeof ROLES)[number];

export interface HostFigures {
  host: string;
  requests: number;
  responses_429: number;
  ratio_429: number | null;
  /** Limiter wait before requests to this host, every role. */
  rate_wait_ms: Distribution;
  breaker: "closed" | "open" | "half_open" | null;
  breaker_openings: number;
  /** The failure that last opened the breaker (`timeout`, `conn_error`, `http_502`, …). */
  breaker_reason: string | null;
}

export interface Report {
  version: typeof REPORT_VERSION;
  generated_at: string;
  jobs: {
    total: number;
    by_state: Record<(typeof STATES)[number], number>;
    /** Terminal jobs by state and last reason, most frequent first within a state. */
    by_reason: { state: string; reason: string; count: number }[];
  };
  yield: {
    /** Jobs in a terminal state. */
    finished: number;
    /** Jobs done (a file obtained or confirmed). */
    obtained: number;
    /** obtained / finished. */
    ratio: number | null;
    by_resolver: { resolver: string; attempts: number; obtained: number; share: number | null }[];
    by_tier: { tier: number | null; obtained: number; share: number | null }[];
  };
  hosts: HostFigures[];
  /** Limiter wait across all hosts, per politeness role (attempts without a role are artifact tries). */
  rate_wait_ms: Record<RoleName, Distribution>;
  /**
   * The part of the metadata requests' limiter wait spent in cool-downs hosts imposed (429/503,
   * Retry-After, backoff): the wait beyond the configured pacing. Attempts recorded before this
   * was measured are left out.
   */
  held_back_ms: { metadata: Distribution };
  /** From a job's first attempt to its stored PDF (first done PDF outcome of each job). */
  time_to_first_pdf_ms: Distribution;
  bytes: {
    /** Distinct files the done jobs point to, and their size. */
    files: number;
    stored: number;
    /** What the done jobs would take without deduplication, and the difference. */
    referenced: number;
    saved_by_dedup: number;
  };
  verify: VerifySummary | null;
  /** Today's (UTC) requests, spending and quota of each source asked today or given a daily limit. */
  sources: SourceUsage[];
  objectives: ObjectiveResult[];
  /** No objective violated. */
  ok: boolean;
}

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
const REACHED_HOST = "http_status IS NOT NULL OR reason IN ('timeout', 'conn_error', 'tls_error')";

/** attempts.role with NULL read as artifact: candidate tries recorded without a role are downloads. */
const ROLE = "coalesce(role, 'artifact')";

export interface ReportOptions {
  objectives: Objectives;
  now: () => number;
  verify?: VerifySummary | null;
  /** Usage per source (src/quota/gate.ts `sourceUsage`), read by the caller who knows the limits. */
  sources?: SourceUsage[];
}

export function buildReport(db: Database, o: ReportOptions): Report {
  // One read transaction: every figure describes the same moment even while runners write.
  return db.transaction(() => {
    const jobs = jobFigures(db);
    const yieldFigures = yieldOf(db, jobs.by_state);
    const hosts = hostFigures(db);
    const rateWait = rateWaitByRole(db);
    const heldBack = metadataHeldBack(db);
    const report: Report = {
      version: REPORT_VERSION,
      generated_at: new Date(o.now()).toISOString(),
      jobs,
      yield: yieldFigures,
      hosts,
      rate_wait_ms: rateWait,
      held_back_ms: { metadata: heldBack },
      time_to_first_pdf_ms: timeToFirstPdf(db),
      bytes: bytesOf(db),
      verify: o.verify ?? null,
      sources: o.sources ?? [],
      objectives: [],
      ok: true,
    };
    report.objectives = evaluateObjectives(
      {
        corruptFiles: o.verify ? o.verify.missing + o.verify.corrupt : null,
        hosts: hosts.map((h) => ({ host: h.host, requests: h.requests, responses429: h.responses_429 })),
        metadataHeldBackP95Ms: heldBack.p95,
      },
      o.objectives,
    );
    report.ok = report.objectives.every((x) => x.status !== "violated");
    return report;
  })();
}

function jobFigures(db: Database): Report["jobs"] {
  const by_state = Object.fromEntries(STATES.map((s) => [s, 0])) as Report["jobs"]["by_state"];
  for (const r of db
    .query<{ state: string; n: number }, []>("SELECT state, count(*) AS n FROM jobs GROUP BY state")
    .all()) {
    if (r.state in by_state) by_state[r.state as keyof typeof by_state] = r.n;
  }
  const by_reason = db
    .query<{ state: string; reason: string; count: number }, []>(
      `SELECT state, coalesce(last_reason, 'unknown') AS reason, count(*) AS count FROM jobs
        WHERE state IN ('done', 'skipped', 'error') GROUP BY 1, 2
        ORDER BY CASE state WHEN 'done' THEN 0 WHEN 'skipped' THEN 1 ELSE 2 END, count DESC, reason`,
    )
    .all();
  const total = Object.values(by_state).reduce((a, b) => a + b, 0);
  return { total, by_state, by_reason };
}

/** The grouped counts yield is folded from; plain SQL, so they can also run on a query thread. */
export const YIELD_QUERIES = {
  tries: `SELECT resolver, count(*) AS n FROM attempts
           WHERE resolver IS NOT NULL AND ${ROLE} = 'artifact' GROUP BY resolver`,
  byResolver: `SELECT resolver, count(*) AS n FROM (${LATEST_DONE}) GROUP BY resolver`,
  byTier: `SELECT tier, count(*) AS n FROM (${LATEST_DONE}) GROUP BY tier ORDER BY tier IS NULL, tier`,
} as const;

export interface YieldRows {
  tries: { resolver: string; n: number }[];
  byResolver: { resolver: string | null; n: number }[];
  byTier: { tier: number | null; n: number }[];
}

/** Yield per resolver and tier given the job counts by state (also the status page's front page). */
export function yieldOf(db: Database, byState: Report["jobs"]["by_state"]): Report["yield"] {
  return yieldFromRows(byState, {
    tries: db.query<YieldRows["tries"][number], []>(YIELD_QUERIES.tries).all(),
    byResolver: db.query<YieldRows["byResolver"][number], []>(YIELD_QUERIES.byResolver).all(),
    byTier: db.query<YieldRows["byTier"][number], []>(YIELD_QUERIES.byTier).all(),
  });
}

/** Yield folded from the grouped counts of YIELD_QUERIES. */
export function yieldFromRows(byState: Report["jobs"]["by_state"], rows: YieldRows): Report["yield"] {
  const finished = byState.done + byState.skipped + byState.error;
  const obtained = byState.done;
  const attempts = new Map(rows.tries.map((r) => [r.resolver, r.n]));
  const won = rows.byResolver;
  const names = new Set<string>([...attempts.keys(), ...won.map((r) => r.resolver ?? "unknown")]);
  const wonBy = new Map(won.map((r) => [r.resolver ?? "unknown", r.n]));
  const by_resolver = [...names]
    .map((resolver) => {
      const got = wonBy.get(resolver) ?? 0;
      return { resolver, attempts: attempts.get(resolver) ?? 0, obtained: got, share: ratio(got, obtained) };
    })
    .sort(
      (a, b) => b.obtained - a.obtained || b.attempts - a.attempts || a.resolver.localeCompare(b.resolver),
    );
  const by_tier = rows.byTier.map((r) => ({ tier: r.tier, obtained: r.n, share: ratio(r.n, obtained) }));
  return { finished, obtained, ratio: ratio(obtained, finished), by_resolver, by_tier };
}

/** Every limiter wait, host by host in ascending order: a walk of attempts_host_idx, no sort. */
export const HOST_WAITS = `SELECT host, rate_wait_ms AS w FROM attempts
  WHERE host IS NOT NULL AND rate_wait_ms IS NOT NULL ORDER BY host, rate_wait_ms`;

function hostFigures(db: Database): HostFigures[] {
  const rows = db
    .query<{ host: string; requests: number; r429: number }, []>(
      // A scan: the host index lacks status and reason, and lookups through it cost 4× more.
      `SELECT host, count(*) AS requests, sum(http_status = 429) AS r429 FROM attempts NOT INDEXED
        WHERE host IS NOT NULL AND (${REACHED_HOST}) GROUP BY host ORDER BY host`,
    )
    .all();
  const waitCounts = new Map(
    db
      .query<{ host: string; n: number }, []>(
        `SELECT host, count(*) AS n FROM attempts
          WHERE host IS NOT NULL AND rate_wait_ms IS NOT NULL GROUP BY host`,
      )
      .all()
      .map((r) => [r.host, r.n]),
  );
  const picker = new GroupedPercentiles(waitCounts);
  for (const r of db.query<{ host: string; w: number }, []>(HOST_WAITS).iterate()) picker.push(r.host, r.w);
  const waits = picker.result();
  const breakers = new Map(
    db
      .query<{ host: string; breaker: HostFigures["breaker"]; breaker_reason: string | null }, []>(
        "SELECT host, breaker, breaker_reason FROM host_state",
      )
      .all()
      .map((r) => [r.host, r]),
  );
  const openings = new Map(
    db
      .query<{ host: string; openings: number }, []>("SELECT host, openings FROM host_breaker_openings")
      .all()
      .map((r) => [r.host, r.openings]),
  );
  return rows.map((r) => ({
    host: r.host,
    requests: r.requests,
    responses_429: r.r429,
    ratio_429: ratio(r.r429, r.requests),
    rate_wait_ms: waits.get(r.host) ?? { count: 0, p50: null, p95: null },
    breaker: breakers.get(r.host)?.breaker ?? null,
    breaker_openings: openings.get(r.host) ?? 0,
    breaker_reason: breakers.get(r.host)?.breaker_reason ?? null,
  }));
}

function rateWaitByRole(db: Database): Report["rate_wait_ms"] {
  const counts = new Map(
    db
      .query<{ role: string; n: number }, []>(
        `SELECT ${ROLE} AS role, count(*) AS n FROM attempts WHERE rate_wait_ms IS NOT NULL GROUP BY 1`,
      )
      .all()
      .map((r) => [r.role, r.n]),
  );
  const picker = new GroupedPercentiles(counts);
  const rows = db.query<{ role: string; w: number }, []>(
    `SELECT ${ROLE} AS role, rate_wait_ms AS w FROM attempts WHERE rate_wait_ms IS NOT NULL ORDER BY 1, 2`,
  );
  for (const r of rows.iterate()) picker.push(r.role, r.w);
  const d = picker.result();
  const none: Distribution = { count: 0, p50: null, p95: null };
  return {
    metadata: d.get("metadata") ?? none,
    landing: d.get("landing") ?? none,
    artifact: d.get("artifact") ?? none,
  };
}

const HELD_BACK = "FROM attempts WHERE role = 'metadata' AND held_back_ms IS NOT NULL";

function metadataHeldBack(db: Database): Distribution {
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

function timeToFirstPdf(db: Database): Distribution {
  const n = db.query<{ n: number }, []>(`SELECT count(*) AS n FROM (${FIRST_PDF})`).get()?.n ?? 0;
  const picker = new GroupedPercentiles(new Map([["", n]]));
  for (const r of db.query<{ ms: number }, []>(`${FIRST_PDF} ORDER BY ms`).iterate()) picker.push("", r.ms);
  return picker.result().get("") ?? { count: 0, p50: null, p95: null };
}

function bytesOf(db: Database): Report["bytes"] {
  const r = db
    .query<{ files: number; stored: number | null; referenced: number | null }, []>(
      `SELECT count(*) AS files, sum(b) AS stored, (SELECT sum(bytes) FROM (${LATEST_DONE}) WHERE sha256 IS NOT NULL) AS referenced
         FROM (SELECT sha256, max(bytes) AS b FROM (${LATEST_DONE}) WHERE sha256 IS NOT NULL GROUP BY sha256)`,
    )
    .get();
  const stored = r?.stored ?? 0;
  const referenced = r?.referenced ?? 0;
  return { files: r?.files ?? 0, stored, referenced, saved_by_dedup: Math.max(0, referenced - stored) };
}
