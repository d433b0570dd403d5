// The queue contract (SPEC 3). The runner, the CLI and the status endpoint talk to a JobQueue;
// the SQLite implementation is the first, and the contract tests take any implementation, so a
// Postgres store can follow without touching its callers.
import type { Artifact } from "../artifact/artifact.ts";
import type { StoredUrlInput } from "./stored-urls.ts";

export const JOB_STATES = ["queued", "in_progress", "done", "skipped", "error"] as const;
export type JobState = (typeof JOB_STATES)[number];
export type TerminalState = "done" | "skipped" | "error";

export function isJobState(x: string): x is JobState {
  return (JOB_STATES as readonly string[]).includes(x);
}

/** A job handed to one runner: valid until `leaseExpiresAt` unless extended by heartbeat. */
export interface LeasedJob {
  id: number;
  artifactId: string;
  artifact: Artifact;
  priority: number;
  /** Tries finished before this lease (an expired earlier lease counts as one). */
  attempts: number;
  maxAttempts: number | null;
  token: string;
  owner: string;
  leaseExpiresAt: number;
  /** Resolver plan progress saved by an earlier attempt, or null. */
  progress: unknown;
}

/** One candidate tried while processing a job (SPEC 9). */
export interface AttemptRecord {
  /** Politeness role of the request; absent means a candidate download (artifact). */
  role?: "metadata" | "landing" | "artifact" | null;
  resolver?: string | null;
  tier?: number | null;
  url?: string | null;
  host?: string | null;
  httpStatus?: number | null;
  reason?: string | null;
  bytes?: number | null;
  elapsedMs?: number | null;
  rateWaitMs?: number | null;
  /** The part of rateWaitMs spent in host-imposed cool-downs (429/503, Retry-After), not pacing. */
  heldBackMs?: number | null;
  at?: number;
}

/** What a terminal outcome records besides state and reason (SPEC 9). */
export interface OutcomeDetail {
  message?: string | null;
  resolver?: string | null;
  tier?: number | null;
  url?: string | null;
  finalUrl?: string | null;
  sha256?: string | null;
  bytes?: number | null;
  contentType?: string | null;
  path?: string | null;
  etag?: string | null;
  lastModified?: string | null;
  /** Provenance a source gave for the obtained file (SPEC 16); null when none said so. */
  license?: string | null;
  licenseUrl?: string | null;
  /** published | accepted | submitted */
  version?: string | null;
  /** publisher | repository */
  hostType?: string | null;
  /** gold | green | hybrid | bronze | diamond */
  oaStatus?: string | null;
}

export interface AckInput extends OutcomeDetail {
  state: "done" | "skipped";
  reason: string;
  /** Attempt rows written in the same transaction as the outcome. */
  attempts?: readonly AttemptRecord[];
  /**
   * The file this job downloaded (or had confirmed by a 304), indexed by canonical URL in the same
   * transaction, so later jobs reuse it and a re-fetch can ask conditionally (stored-urls.ts).
   */
  stored?: StoredUrlInput;
}

export interface FailInput {
  reason: string;
  message?: string | null;
  /** Worth another try later; a permanent failure ends the job at once. */
  transient: boolean;
  /** The origin's Retry-After as an absolute epoch-ms time; replaces the computed backoff. */
  retryAt?: number;
  attempts?: readonly AttemptRecord[];
  /** Recorded on the outcome when this failure ends the job. */
  detail?: OutcomeDetail;
}

export type FailResult =
  | { state: "queued"; availableAt: number; attempts: number }
  | { state: "error"; attempts: number };

export interface EnqueueResult {
  added: number;
  duplicate: number;
}

export interface QueueStats {
  counts: Record<JobState, number>;
  total: number;
  /** Queued and due now. */
  ready: number;
  /** Queued for later (backoff, Retry-After, politeness release). */
  delayed: number;
  /** In progress with a lease that ran out (a crashed runner): ready to be re-leased. */
  expired: number;
  /** Age of the longest-waiting ready job, ms; null when nothing is ready. */
  oldestReadyAgeMs: number | null;
  /** Earliest time a delayed job becomes ready; null when nothing is delayed. */
  nextAvailableAt: number | null;
  /** Terminal outcomes per minute over the last minute and the last 15 minutes. */
  throughput: { lastMinute: number; last15MinutesPerMinute: number };
  paused: boolean;
}

export interface JobRow {
  id: number;
  artifactId: string;
  artifact: Artifact;
  state: JobState;
  priority: number;
  attempts: number;
  maxAttempts: number | null;
  availableAt: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  firstAttemptAt: number | null;
  lastReason: string | null;
  lastError: string | null;
  progress: unknown;
  createdAt: number;
  updatedAt: number;
}

export interface AttemptRow extends Required<Omit<AttemptRecord, "at">> {
  id: number;
  jobId: number;
  at: number;
}

export interface OutcomeRow extends Required<OutcomeDetail> {
  seq: number;
  jobId: number;
  artifactId: string;
  state: TerminalState;
  reason: string;
  firstAttemptAt: number | null;
  finishedAt: number;
  attempts: number;
}

export interface JobDetail {
  job: JobRow;
  attempts: AttemptRow[];
  /** Every terminal outcome of the job, oldest first (a requeued job can end more than once). */
  outcomes: OutcomeRow[];
}

export interface ListFilter {
  state?: JobState;
  reason?: string;
  limit?: number;
  /** Opaque cursor from a previous page (`nextCursor`). */
  cursor?: string;
}

export interface JobPage {
  jobs: JobRow[];
  nextCursor: string | null;
}

export interface RequeueResult {
  requeued: number[];
  notFound: string[];
  /** Held by a runner right now: left alone. */
  inProgress: string[];
}

/** One finishing transition of a held job, for `commitMany`; each is fenced by its own lease token. */
export type JobCommit =
  | { kind: "ack"; jobId: number; token: string; outcome: AckInput }
  | {
      kind: "fail";
      jobId: number;
      token: string;
      failure: FailInput;
      /** Saved with the failure (same item, same all-or-nothing), so a retry continues from it. */
      progress?: unknown;
    }
  | {
      kind: "release";
      jobId: number;
      token: string;
      /** Ready again at this time (default now). */
      until?: number;
      /** Candidates tried before giving the job back, recorded with the release. */
      attempts?: readonly AttemptRecord[];
      progress?: unknown;
    };

/**
 * What one item of a batch came to: its own result (`false` on a stale token; a FailResult for a
 * fail that took effect; `true` otherwise), or its own error, with its changes undone.
 */
export type JobCommitResult = { ok: true; value: boolean | FailResult } | { ok: false; error: unknown };

export interface JobQueue {
  /** Insert new jobs; an artifact id already present is a duplicate and changes nothing. */
  enqueue(artifacts: readonly Artifact[]): Promise<EnqueueResult>;
  /** Claim up to `n` ready jobs for `owner`; each gets a fresh token. Nothing while paused. */
  lease(owner: string, n: number): Promise<LeasedJob[]>;
  /** Extend the leases still held; returns the job ids whose lease was extended. */
  heartbeat(leases: readonly { jobId: number; token: string }[]): Promise<number[]>;
  /** Record tried candidates while working; false when the lease is lost. */
  recordAttempts(jobId: number, token: string, attempts: readonly AttemptRecord[]): Promise<boolean>;
  /** Persist resolver plan progress so a retry continues; false when the lease is lost. */
  saveProgress(jobId: number, token: string, progress: unknown): Promise<boolean>;
  /** Finish the job as done/skipped with its outcome, atomically; false on a stale token. */
  ack(jobId: number, token: string, outcome: AckInput): Promise<boolean>;
  /** Count a failed try: back off and retry, or end in `error`; false on a stale token. */
  fail(jobId: number, token: string, failure: FailInput): Promise<FailResult | false>;
  /** Give the job back without counting a try, ready at `until` (default now); false on a stale token. */
  release(jobId: number, token: string, until?: number): Promise<boolean>;
  /**
   * Several acks, fails and releases in ONE transaction (group commit), applied in the given order.
   * Each is its own compare-and-set on its token, exactly as the single calls: a stale token is
   * `false` and changes nothing; an item that throws is undone alone and reported in its slot.
   * Rejects only when the batch as a whole could not commit (then none of it took effect).
   */
  commitMany(commits: readonly JobCommit[]): Promise<JobCommitResult[]>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  isPaused(): Promise<boolean>;
  stats(): Promise<QueueStats>;
  list(filter?: ListFilter): Promise<JobPage>;
  /** A job by numeric id or artifact id, with its attempts and outcomes. */
  show(idOrArtifactId: string | number): Promise<JobDetail | null>;
  /** Move `error` jobs (optionally of one reason) back to queued; returns how many (would) move. */
  retryFailed(options?: { reason?: string; dryRun?: boolean }): Promise<number>;
  /** Put jobs (by id or artifact id) back to queued unless a runner holds them. */
  requeue(ids: readonly (string | number)[]): Promise<RequeueResult>;
}
