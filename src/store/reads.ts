// What the commands that look at the whole queue read (report, manifest export, report --verify,
// the status page's search, failures, yield and throughput chart): one interface, implemented over
// the SQLite state (sqlite/reads.ts, sqlite/report.ts) and over PostgreSQL (postgres/reads/), so each command works on either.
import type { Distribution } from "../core/percentiles.ts";
import type { ReasonGroup } from "./jobs/failures.ts";
import type { OutcomeWithArtifact } from "./jobs/rows.ts";
import type { Maybe } from "./maybe.ts";
import type { JobRow } from "./types.ts";

/** Nearest-rank percentiles of a group of values. */
export type Percentiles = Distribution;

/** The grouped counts yield is folded from (telemetry/report.ts yieldFromRows). */
export interface YieldRows {
  tries: { resolver: string; n: number }[];
  byResolver: { resolver: string | null; n: number }[];
  byTier: { tier: number | null; n: number }[];
}

/** Every aggregate `report` folds, read at one moment (one read transaction). */
export interface ReportRows {
  jobsByState: { state: string; n: number }[];
  /** Terminal jobs by state and last reason, done first, most frequent first within a state. */
  byReason: { state: string; reason: string; count: number }[];
  yield: YieldRows;
  /** Requests that reached each host and how many were answered 429, by host. */
  hosts: { host: string; requests: number; r429: number }[];
  hostWaits: Map<string, Percentiles>;
  breakers: {
    host: string;
    breaker: "closed" | "open" | "half_open" | null;
    breaker_reason: string | null;
  }[];
  openings: { host: string; openings: number }[];
  /** Limiter waits per politeness role (no role = artifact). */
  rateWaitByRole: Map<string, Percentiles>;
  metadataHeldBack: Percentiles;
  timeToFirstPdf: Percentiles;
  bytes: { files: number; stored: number; referenced: number };
}

/** One distinct stored digest among done outcomes. */
export interface DigestRow {
  sha256: string;
  content_type: string | null;
  bytes: number | null;
}

/** A done job's latest outcome with the path it names. */
export interface LinkRow extends DigestRow {
  seq: number;
  path: string;
}

/** A job `docstokg plan` forecasts: still queued or leased. */
export interface QueuedWorkRow {
  id: number;
  artifact: string;
  progress: string | null;
}

/** One minute of outcomes for the throughput chart. */
export interface MinuteRow {
  m: number;
  n: number;
  b: number;
  s: number;
}

/** Each answer is a value on SQLite (synchronous) and a promise on PostgreSQL. */
export interface StateReads {
  /** True when the database answers; throws when it cannot be queried. */
  ping(): Maybe<boolean>;
  /** Outcomes with seq > after, finished at or after `since`, of `state` ('' = any), by seq. */
  outcomePage(after: number, since: number, state: string, limit: number): Maybe<OutcomeWithArtifact[]>;
  reportRows(): Maybe<ReportRows>;
  /** Files `report --verify` plans to check: distinct digests plus done jobs' latest paths. */
  verifyTotal(since: number): Maybe<number>;
  digestPage(after: string, since: number, limit: number): Maybe<DigestRow[]>;
  linkPage(after: number, since: number, limit: number): Maybe<LinkRow[]>;
  /** Jobs named by an artifact id or job id (searchKeys of jobs/search.ts). */
  searchJobs(artifactIds: readonly string[], jobId: number | null): Maybe<JobRow[]>;
  failures(): Maybe<ReasonGroup[]>;
  yieldRows(): Maybe<YieldRows>;
  /** Outcome count, bytes and last seq after `seq`. */
  outcomesAfter(seq: number): Maybe<{ n: number; b: number; s: number | null }>;
  maxOutcomeSeq(): Maybe<number>;
  outcomesPerMinute(from: number): Maybe<MinuteRow[]>;
  /** Queued and leased jobs with id > `after`, by id: their artifact and saved progress (raw JSON). */
  queuedWorkPage(after: number, limit: number): Maybe<QueuedWorkRow[]>;
  /**
   * `fn` over one consistent view of the state, for reads that page through it (`manifest export`):
   * on PostgreSQL a read-only repeatable-read transaction, since outcome seqs are drawn before
   * commit and a later page could otherwise pass over an earlier seq committed meanwhile; SQLite
   * draws them in commit order (one writer), so pages never skip and `fn` gets these reads.
   */
  snapshot<T>(fn: (reads: StateReads) => Promise<T>): Promise<T>;
}
