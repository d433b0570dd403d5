// The JobQueue on bun:sqlite: composes the one-statement-per-concern modules in jobs/ with the
// queue policy (lease TTL, attempts, backoff) and the injected clock and randomness.
import type { Database } from "bun:sqlite";
import type { Artifact } from "../artifact/artifact.ts";
import type { Config } from "../config/schema.ts";
import { type BackoffPolicy, retryAvailableAt } from "./backoff.ts";
import { openStateDatabase } from "./db.ts";
import { prepareAck } from "./jobs/ack.ts";
import { recordAttempts } from "./jobs/attempts.ts";
import { type CommitMany, prepareCommitMany } from "./jobs/commit-many.ts";
import { enqueueJobs } from "./jobs/enqueue.ts";
import { type FailOperation, type FailPolicy, prepareFail } from "./jobs/fail.ts";
import { prepareHeartbeat } from "./jobs/heartbeat.ts";
import { type LeaseParams, prepareLease } from "./jobs/lease.ts";
import { listJobs } from "./jobs/list.ts";
import { prepareSaveProgress, type SaveProgress } from "./jobs/progress.ts";
import { prepareReap } from "./jobs/reap.ts";
import { prepareRelease, type ReleaseStep } from "./jobs/release.ts";
import { requeueJobs, retryFailedJobs } from "./jobs/requeue.ts";
import { isPaused, setPaused } from "./jobs/settings.ts";
import { showJob } from "./jobs/show.ts";
import { queueStats } from "./jobs/stats.ts";
import type {
  AckInput,
  AttemptRecord,
  EnqueueResult,
  FailInput,
  FailResult,
  JobCommit,
  JobCommitResult,
  JobDetail,
  JobPage,
  JobQueue,
  LeasedJob,
  ListFilter,
  QueueStats,
  RequeueResult,
} from "./types.ts";

export interface QueuePolicy {
  leaseTtlMs: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
}

export interface QueueDeps {
  now: () => number;
  /** Uniform in [0, 1): the backoff jitter. */
  random?: () => number;
  /** A fresh unguessable string per lease call; job tokens are `<it>.<job id>`. */
  token?: () => string;
}

export function queuePolicy(queue: Config["queue"]): QueuePolicy {
  return {
    leaseTtlMs: Math.round(queue.lease_ttl_s * 1000),
    maxAttempts: queue.max_attempts,
    backoff: {
      baseMs: Math.round(queue.backoff_base_s * 1000),
      capMs: Math.round(queue.backoff_cap_s * 1000),
    },
  };
}

export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export class SqliteJobQueue implements JobQueue {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly token: () => string;
  // The per-job operations, prepared once for this connection.
  private readonly leaseJobs: (p: LeaseParams) => LeasedJob[];
  private readonly reapExhausted: (now: number, maxAttempts: number) => number;
  private readonly ackJob: (jobId: number, token: string, outcome: AckInput, now: number) => boolean;
  private readonly failJob: FailOperation;
  private readonly releaseJob: ReleaseStep;
  private readonly saveJobProgress: SaveProgress;
  private readonly commitJobs: CommitMany;
  private readonly extendLeases: (
    leases: readonly { jobId: number; token: string }[],
    expiresAt: number,
  ) => number[];

  constructor(
    readonly db: Database,
    readonly policy: QueuePolicy,
    deps: QueueDeps,
  ) {
    this.now = deps.now;
    this.random = deps.random ?? Math.random;
    this.token = deps.token ?? randomToken;
    this.leaseJobs = prepareLease(db);
    this.reapExhausted = prepareReap(db);
    this.ackJob = prepareAck(db);
    this.failJob = prepareFail(db);
    this.releaseJob = prepareRelease(db);
    this.saveJobProgress = prepareSaveProgress(db);
    this.commitJobs = prepareCommitMany(db, (now) => this.failPolicy(now));
    this.extendLeases = prepareHeartbeat(db);
  }

  async enqueue(artifacts: readonly Artifact[]): Promise<EnqueueResult> {
    return enqueueJobs(this.db, artifacts, this.now());
  }

  async lease(owner: string, n: number): Promise<LeasedJob[]> {
    const now = this.now();
    this.reapExhausted(now, this.policy.maxAttempts);
    return this.leaseJobs({
      owner,
      n,
      now,
      ttlMs: this.policy.leaseTtlMs,
      tokenBase: this.token(),
      maxAttempts: this.policy.maxAttempts,
    });
  }

  async heartbeat(leases: readonly { jobId: number; token: string }[]): Promise<number[]> {
    return this.extendLeases(leases, this.now() + this.policy.leaseTtlMs);
  }

  async recordAttempts(jobId: number, token: string, attempts: readonly AttemptRecord[]): Promise<boolean> {
    return recordAttempts(this.db, jobId, token, attempts, this.now());
  }

  async saveProgress(jobId: number, token: string, progress: unknown): Promise<boolean> {
    return this.saveJobProgress(jobId, token, progress, this.now());
  }

  async ack(jobId: number, token: string, outcome: AckInput): Promise<boolean> {
    return this.ackJob(jobId, token, outcome, this.now());
  }

  async fail(jobId: number, token: string, failure: FailInput): Promise<FailResult | false> {
    const now = this.now();
    return this.failJob(jobId, token, failure, now, this.failPolicy(now));
  }

  private failPolicy(now: number): FailPolicy {
    return {
      maxAttempts: this.policy.maxAttempts,
      retryAt: (attempt, retryAfter) =>
        retryAvailableAt(now, attempt, this.policy.backoff, this.random, retryAfter),
    };
  }

  async release(jobId: number, token: string, until?: number): Promise<boolean> {
    const now = this.now();
    return this.releaseJob(jobId, token, until ?? now, now);
  }

  async commitMany(commits: readonly JobCommit[]): Promise<JobCommitResult[]> {
    return this.commitJobs(commits, this.now());
  }

  async pause(): Promise<void> {
    setPaused(this.db, true);
  }

  async resume(): Promise<void> {
    setPaused(this.db, false);
  }

  async isPaused(): Promise<boolean> {
    return isPaused(this.db);
  }

  async stats(): Promise<QueueStats> {
    return queueStats(this.db, this.now());
  }

  async list(filter?: ListFilter): Promise<JobPage> {
    return listJobs(this.db, filter);
  }

  async show(idOrArtifactId: string | number): Promise<JobDetail | null> {
    return showJob(this.db, idOrArtifactId);
  }

  async retryFailed(options: { reason?: string; dryRun?: boolean } = {}): Promise<number> {
    return retryFailedJobs(this.db, this.now(), options.reason, options.dryRun ?? false);
  }

  async requeue(ids: readonly (string | number)[]): Promise<RequeueResult> {
    return requeueJobs(this.db, ids, this.now());
  }
}

/** The queue of a state directory (created and migrated as needed); close `db` when done. */
export function openQueueStore(
  stateDir: string,
  queue: Config["queue"],
  deps: QueueDeps,
): { db: Database; queue: SqliteJobQueue } {
  const db = openStateDatabase(stateDir);
  return { db, queue: new SqliteJobQueue(db, queuePolicy(queue), deps) };
}
