// `docstokg report`: the run summary and service-level indicators read from the queue database —
// totals by state and reason, yield per resolver and tier, per-host politeness, time to first PDF,
// bytes and deduplication, and the objectives. Aggregates run in SQL; percentiles are picked from
// sorted row streams by the pure functions in sli.ts. The JSON form (version 1) is a stable contract
// documented in the README; the text form is a compact table for people.
import type { Database } from "bun:sqlite";
import type { SourceUsage } from "../quota/gate.ts";
import { formatBytes, formatCount } from "./format.ts";
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
const ROLES = ["metadata", "landing", "artifact"] as const;
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

// ---------------------------------------------------------------------------------------------
// Text form

const ms = (x: number | null) => (x === null ? "–" : `${formatCount(Math.round(x))} ms`);
const share = (x: number | null) => (x === null ? "–" : `${(100 * x).toFixed(1)}%`);
const dur = (x: number | null) => {
  if (x === null) return "–";
  if (x < 1000) return `${Math.round(x)} ms`;
  if (x < 120_000) return `${(x / 1000).toFixed(1)} s`;
  if (x < 7_200_000) return `${(x / 60_000).toFixed(1)} min`;
  return `${(x / 3_600_000).toFixed(1)} h`;
};

/** Text columns (the first `left`) aligned left, numbers right. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], left = 1): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < left ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const indent = (lines: string[]) => lines.map((l) => `  ${l}`);

export function reportText(r: Report, o: { maxHosts?: number } = {}): string {
  const out: string[] = [];
  const s = r.jobs.by_state;
  out.push(
    `jobs ${formatCount(r.jobs.total)}: done ${formatCount(s.done)}, skipped ${formatCount(s.skipped)}, error ${formatCount(s.error)}, queued ${formatCount(s.queued)}, in progress ${formatCount(s.in_progress)}`,
  );
  if (r.jobs.by_reason.length > 0) {
    out.push("", "outcomes");
    out.push(
      ...indent(
        table(
          ["state", "reason", "jobs"],
          r.jobs.by_reason.map((x) => [x.state, x.reason, formatCount(x.count)]),
          2,
        ),
      ),
    );
  }
  out.push(
    "",
    `yield ${share(r.yield.ratio)} (${formatCount(r.yield.obtained)} of ${formatCount(r.yield.finished)} finished)`,
  );
  if (r.yield.by_resolver.length > 0) {
    out.push(
      ...indent(
        table(
          ["resolver", "tries", "obtained", "share"],
          r.yield.by_resolver.map((x) => [
            x.resolver,
            formatCount(x.attempts),
            formatCount(x.obtained),
            share(x.share),
          ]),
        ),
      ),
    );
  }
  if (r.yield.by_tier.length > 0) {
    out.push(
      ...indent(
        table(
          ["tier", "obtained", "share"],
          r.yield.by_tier.map((x) => [
            x.tier === null ? "–" : String(x.tier),
            formatCount(x.obtained),
            share(x.share),
          ]),
        ),
      ),
    );
  }
  if (r.hosts.length > 0) {
    const max = o.maxHosts ?? 20;
    const hosts = [...r.hosts].sort((a, b) => b.requests - a.requests || a.host.localeCompare(b.host));
    out.push("", "hosts");
    out.push(
      ...indent(
        table(
          ["host", "requests", "429", "429 %", "wait p50", "wait p95", "breaker", "opened", "why"],
          hosts
            .slice(0, max)
            .map((h) => [
              h.host,
              formatCount(h.requests),
              formatCount(h.responses_429),
              share(h.ratio_429),
              ms(h.rate_wait_ms.p50),
              ms(h.rate_wait_ms.p95),
              h.breaker ?? "–",
              formatCount(h.breaker_openings),
              h.breaker_openings > 0 ? (h.breaker_reason ?? "–") : "",
            ]),
        ),
      ),
    );
    if (hosts.length > max) out.push(`  … ${hosts.length - max} more hosts (--json lists all)`);
  }
  if (r.sources.length > 0) {
    out.push("", `sources today (UTC ${r.sources[0]?.day})`);
    out.push(
      ...indent(
        table(
          ["source", "requests", "daily limit", "spent", "remaining", "quota"],
          r.sources.map((x) => [
            x.source,
            formatCount(x.requests),
            x.daily_limit === null ? "–" : formatCount(x.daily_limit),
            x.cost_usd > 0 || x.remaining_usd !== null ? `$${x.cost_usd.toFixed(4)}` : "–",
            x.remaining_usd === null ? "–" : `$${x.remaining_usd}`,
            x.exhausted_until ? `spent until ${x.exhausted_until} (${x.when_exhausted})` : "ok",
          ]),
          2,
        ),
      ),
    );
  }
  out.push("", "rate wait");
  out.push(
    ...indent(
      table(
        ["role", "requests", "p50", "p95"],
        ROLES.map((role) => {
          const d = r.rate_wait_ms[role];
          return [role, formatCount(d.count), ms(d.p50), ms(d.p95)];
        }),
      ),
    ),
  );
  const t = r.time_to_first_pdf_ms;
  out.push(
    "",
    `time to first PDF  p50 ${dur(t.p50)}  p95 ${dur(t.p95)}  (${formatCount(t.count)} works)`,
    `bytes stored ${formatBytes(r.bytes.stored)} in ${formatCount(r.bytes.files)} files; saved by deduplication ${formatBytes(r.bytes.saved_by_dedup)}`,
  );
  if (r.verify) {
    const v = r.verify;
    out.push(
      `verified ${formatCount(v.files)} files (${formatBytes(v.bytes)}): ${formatCount(v.ok)} ok, ${formatCount(v.missing)} missing, ${formatCount(v.corrupt)} corrupt`,
    );
    for (const p of v.problems)
      out.push(`  ${p.problem.padEnd(7)} ${p.path}${p.actual ? `  (sha256 ${p.actual})` : ""}`);
    if (v.problems.length < v.missing + v.corrupt) {
      out.push(
        `  … ${v.missing + v.corrupt - v.problems.length} more (--json lists the first ${v.problems.length})`,
      );
    }
  }
  out.push("", "objectives");
  for (const x of r.objectives) {
    const mark = x.status === "met" ? "ok  " : x.status === "violated" ? "FAIL" : "--  ";
    out.push(`  ${mark} ${x.name.padEnd(24)}${x.detail}`);
  }
  return `${out.join("\n")}\n`;
}
