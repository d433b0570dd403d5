// The JobQueue on PostgreSQL, for fleets of runners on many servers: composes the one-statement
// modules in jobs/ with the queue policy. Instants that servers compare (lease expiry, available_at,
// finish times) come from the database clock: calls hand durations to SQL, which adds them to its
// own now. Writes whose connection fails are retried (retry.ts); a retried finish is idempotent.
import type { SQL } from "bun";
import type { Artifact } from "../../artifact/artifact.ts";
import type { Config } from "../../config/schema.ts";
import { type QueuePolicy, queuePolicy, randomToken } from "../sqlite-queue.ts";
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
} from "../types.ts";
import { openPostgres } from "./connection.ts";
import { type ConnectionHealth, connectionHealth, RUNNER_RETRY } from "./health.ts";
import { recordAttempts } from "./jobs/attempts.ts";
import { type CommitContext, commitMany, confirmCommit } from "./jobs/commit-many.ts";
import { enqueueJobs } from "./jobs/enqueue.ts";
import {
  ackJob,
  confirmAck,
  confirmFail,
  confirmRelease,
  type FailParams,
  failJob,
  releaseJob,
  saveProgress,
} from "./jobs/finish.ts";
import { extendLeases } from "./jobs/heartbeat.ts";
import { leaseJobs } from "./jobs/lease.ts";
import { listJobs, queueStats, showJob } from "./jobs/read.ts";
import { reapExhausted } from "./jobs/reap.ts";
import { isPaused, requeueJobs, retryFailedJobs, setPaused } from "./jobs/steer.ts";
import { migratePostgres } from "./migrations.ts";
import { type RetryDeps, type RetryPolicy, withRetry } from "./retry.ts";

const REAP_EVERY_MS = 1_000;

export interface PostgresQueueDeps {
  /**
   * TESTS ONLY: a clock that replaces the database's (the contract suite drives a fake clock). In
   * production leave it unset: every instant is then the database server's `now()`, the one clock
   * all runners of a fleet share. Absolute inputs (Retry-After, release `until`) are turned into
   * waits against `Date.now()` either way.
   */
  clock?: () => number;
  /** Uniform in [0, 1): the backoff jitter. */
  random?: () => number;
  /** A fresh unguessable string per lease call; job tokens are `<it>.<job id>`. */
  token?: () => string;
  retry?: RetryPolicy;
  sleep?: RetryDeps["sleep"];
  /** Told when a statement failed on a connection error and is being retried. */
  onRetry?: RetryDeps["onRetry"];
}

export class PostgresJobQueue implements JobQueue {
  private readonly clock: (() => number) | undefined;
  private readonly random: () => number;
  private readonly token: () => string;
  private readonly retryPolicy: RetryPolicy;
  private readonly retryDeps: RetryDeps;
  private readonly health: ConnectionHealth;
  private lastReap = Number.NEGATIVE_INFINITY;

  constructor(
    readonly sql: SQL,
    readonly policy: QueuePolicy,
    deps: PostgresQueueDeps = {},
  ) {
    this.clock = deps.clock;
    this.random = deps.random ?? Math.random;
    this.token = deps.token ?? randomToken;
    this.retryPolicy = deps.retry ?? RUNNER_RETRY;
    // Every store on this pool reports a lost connection through one record, so it is logged once.
    this.health = connectionHealth(sql);
    this.retryDeps = {
      sleep: deps.sleep,
      onRetry: (e, n) => {
        this.health.failed(e);
        deps.onRetry?.(e, n);
      },
    };
  }

  /** The clock override for SQL (null: the database's own). */
  private get at(): number | null {
    return this.clock ? this.clock() : null;
  }

  /** Now on the caller's side, only to turn an absolute time from outside into a wait. */
  private localNow(): number {
    return this.clock ? this.clock() : Date.now();
  }

  private async retry<R>(
    op: () => Promise<R>,
    confirm?: { isLost: (r: R) => boolean; confirm: (r: R) => Promise<R> },
  ): Promise<R> {
    const r = await withRetry(op, this.retryPolicy, this.retryDeps, confirm);
    this.health.succeeded();
    return r;
  }

  async enqueue(artifacts: readonly Artifact[]): Promise<EnqueueResult> {
    // ON CONFLICT DO NOTHING makes a repeat harmless; a repeat after an unanswered COMMIT would count
    // the first try's rows as duplicates, which is the truth as seen afterwards.
    return await this.retry(() => enqueueJobs(this.sql, artifacts, this.at));
  }

  async lease(owner: string, n: number): Promise<LeasedJob[]> {
    if (n <= 0) return [];
    // A claim whose COMMIT went unanswered holds its jobs under tokens nobody knows until the lease
    // expires: that costs those jobs one try, never a double lease.
    return await this.retry(async () => {
      // Exhausted leases are rare: ending them at most once a second spares every lease a round trip
      // (a job past its last try simply waits up to a second longer for its outcome).
      const now = this.localNow();
      if (now - this.lastReap >= REAP_EVERY_MS || now < this.lastReap) {
        await reapExhausted(this.sql, this.policy.maxAttempts, this.at);
        this.lastReap = now;
      }
      return await leaseJobs(this.sql, {
        owner,
        n,
        ttlMs: this.policy.leaseTtlMs,
        tokenBase: this.token(),
        maxAttempts: this.policy.maxAttempts,
        clock: this.at,
      });
    });
  }

  async heartbeat(leases: readonly { jobId: number; token: string }[]): Promise<number[]> {
    return await this.retry(() => extendLeases(this.sql, leases, this.policy.leaseTtlMs, this.at));
  }

  async recordAttempts(jobId: number, token: string, attempts: readonly AttemptRecord[]): Promise<boolean> {
    return await this.retry(() => recordAttempts(this.sql, jobId, token, attempts, this.at));
  }

  async saveProgress(jobId: number, token: string, progress: unknown): Promise<boolean> {
    return await this.retry(() => saveProgress(this.sql, jobId, token, progress, { clock: this.at }));
  }

  async ack(jobId: number, token: string, outcome: AckInput): Promise<boolean> {
    return await this.retry(() => ackJob(this.sql, jobId, token, outcome, { clock: this.at }), {
      isLost: (r) => r === false,
      confirm: () => confirmAck(this.sql, jobId, token),
    });
  }

  async fail(jobId: number, token: string, failure: FailInput): Promise<FailResult | false> {
    const ctx = this.commitContext();
    const params = ctx.failParams({ kind: "fail", jobId, token, failure });
    return await this.retry(() => failJob(this.sql, jobId, token, failure, params, ctx), {
      isLost: (r) => r === false,
      confirm: () => confirmFail(this.sql, jobId, token),
    });
  }

  async release(jobId: number, token: string, until?: number): Promise<boolean> {
    const ctx = this.commitContext();
    return await this.retry(
      () => releaseJob(this.sql, jobId, token, { delayMs: ctx.releaseDelay(until) }, ctx),
      { isLost: (r) => r === false, confirm: () => confirmRelease(this.sql, jobId, token) },
    );
  }

  async commitMany(commits: readonly JobCommit[]): Promise<JobCommitResult[]> {
    const ctx = this.commitContext();
    return await this.retry(() => commitMany(this.sql, commits, ctx), {
      isLost: (results) => results.some((r) => r.ok && r.value === false),
      confirm: async (results) =>
        await Promise.all(
          results.map(async (r, i) =>
            r.ok && r.value === false
              ? { ok: true as const, value: await confirmCommit(this.sql, commits[i] as JobCommit) }
              : r,
          ),
        ),
    });
  }

  /** Per call: the clock, and the jitter draws and waits fixed once so a retry repeats them exactly. */
  private commitContext(): CommitContext {
    const clock = this.at;
    const localNow = this.localNow();
    const drawn = new Map<JobCommit, FailParams>();
    return {
      clock,
      failParams: (c) => {
        let p = drawn.get(c);
        if (!p) {
          p = {
            maxAttempts: this.policy.maxAttempts,
            backoff: this.policy.backoff,
            draw: this.random(),
            retryDelayMs:
              c.failure.retryAt !== undefined && Number.isFinite(c.failure.retryAt)
                ? Math.floor(c.failure.retryAt) - localNow
                : null,
            progress: c.progress,
          };
          drawn.set(c, p);
        }
        return p;
      },
      releaseDelay: (until) => (until === undefined ? 0 : until - localNow),
    };
  }

  async pause(): Promise<void> {
    await this.retry(() => setPaused(this.sql, true));
  }

  async resume(): Promise<void> {
    await this.retry(() => setPaused(this.sql, false));
  }

  async isPaused(): Promise<boolean> {
    return await this.retry(() => isPaused(this.sql));
  }

  async stats(): Promise<QueueStats> {
    return await this.retry(() => queueStats(this.sql, this.at));
  }

  async list(filter?: ListFilter): Promise<JobPage> {
    return await this.retry(() => listJobs(this.sql, filter));
  }

  async show(idOrArtifactId: string | number): Promise<JobDetail | null> {
    return await this.retry(() => showJob(this.sql, idOrArtifactId));
  }

  async retryFailed(options: { reason?: string; dryRun?: boolean } = {}): Promise<number> {
    return await this.retry(() =>
      retryFailedJobs(this.sql, this.at, options.reason, options.dryRun ?? false),
    );
  }

  async requeue(ids: readonly (string | number)[]): Promise<RequeueResult> {
    return await this.retry(() => requeueJobs(this.sql, ids, this.at));
  }
}

/** The fleet's queue: a bounded pool on `url`, migrated to the latest schema. Close `sql` when done. */
export async function openPostgresQueue(
  url: string,
  queue: Config["queue"],
  options: { poolSize?: number; deps?: PostgresQueueDeps } = {},
): Promise<{ sql: SQL; queue: PostgresJobQueue }> {
  const sql = openPostgres(url, { max: options.poolSize });
  try {
    await migratePostgres(sql);
  } catch (error) {
    await sql.close();
    throw error;
  }
  return { sql, queue: new PostgresJobQueue(sql, queuePolicy(queue), options.deps) };
}
