// `docstokg report`: the run summary and service-level indicators — totals by state and reason,
// yield per resolver and tier, per-host politeness, time to first PDF, bytes and deduplication, and
// the objectives — folded from the aggregates a store read (store/reads: SQLite or PostgreSQL). The
// JSON form (version 1) is a stable contract documented in the README; report-text.ts renders the
// compact tables for people.
import type { Database } from "bun:sqlite";
import type { SourceUsage } from "../quota/gate.ts";
import type { ReportRows, YieldRows } from "../store/reads.ts";
import { sqliteReportRows } from "../store/sqlite/report.ts";
import {
  type Distribution,
  evaluateObjectives,
  type ObjectiveResult,
  type Objectives,
  ratio,
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

export interface ReportOptions {
  objectives: Objectives;
  now: () => number;
  verify?: VerifySummary | null;
  /** Usage per source (src/quota/gate.ts `sourceUsage`), read by the caller who knows the limits. */
  sources?: SourceUsage[];
}

/** The report of a SQLite state database (tests, benches); `reportOf` folds any store's rows. */
export function buildReport(db: Database, o: ReportOptions): Report {
  return reportOf(sqliteReportRows(db), o);
}

/** The report folded from the aggregates a store read (store/reads: SQLite or PostgreSQL). */
export function reportOf(rows: ReportRows, o: ReportOptions): Report {
  const jobs = jobFigures(rows);
  const hosts = hostFigures(rows);
  const none: Distribution = { count: 0, p50: null, p95: null };
  const heldBack = rows.metadataHeldBack;
  const report: Report = {
    version: REPORT_VERSION,
    generated_at: new Date(o.now()).toISOString(),
    jobs,
    yield: yieldFromRows(jobs.by_state, rows.yield),
    hosts,
    rate_wait_ms: {
      metadata: rows.rateWaitByRole.get("metadata") ?? none,
      landing: rows.rateWaitByRole.get("landing") ?? none,
      artifact: rows.rateWaitByRole.get("artifact") ?? none,
    },
    held_back_ms: { metadata: heldBack },
    time_to_first_pdf_ms: rows.timeToFirstPdf,
    bytes: {
      ...rows.bytes,
      saved_by_dedup: Math.max(0, rows.bytes.referenced - rows.bytes.stored),
    },
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
}

function jobFigures(rows: ReportRows): Report["jobs"] {
  const by_state = Object.fromEntries(STATES.map((s) => [s, 0])) as Report["jobs"]["by_state"];
  for (const r of rows.jobsByState) {
    if (r.state in by_state) by_state[r.state as keyof typeof by_state] = r.n;
  }
  const total = Object.values(by_state).reduce((a, b) => a + b, 0);
  return { total, by_state, by_reason: rows.byReason };
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

function hostFigures(rows: ReportRows): HostFigures[] {
  const breakers = new Map(rows.breakers.map((r) => [r.host, r]));
  const openings = new Map(rows.openings.map((r) => [r.host, r.openings]));
  return rows.hosts.map((r) => ({
    host: r.host,
    requests: r.requests,
    responses_429: r.r429,
    ratio_429: ratio(r.r429, r.requests),
    rate_wait_ms: rows.hostWaits.get(r.host) ?? { count: 0, p50: null, p95: null },
    breaker: breakers.get(r.host)?.breaker ?? null,
    breaker_openings: openings.get(r.host) ?? 0,
    breaker_reason: breakers.get(r.host)?.breaker_reason ?? null,
  }));
}

export { HOST_WAITS, YIELD_QUERIES } from "../store/sqlite/report.ts";
export type { YieldRows };
