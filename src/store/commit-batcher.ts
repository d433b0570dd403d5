// Group commit for a runner: acks, fails and releases that arrive close together are written by one
// `commitMany` (one transaction) instead of one transaction each. Every caller still gets the
// result of ITS commit — its own token check, its own error — and waits at most one flush delay
// (or for the batch being written ahead of it).
import type { AckInput, AttemptRecord, FailInput, FailResult, JobCommit, JobQueue } from "./types.ts";

export interface CommitBatcherOptions {
  /** Flush as soon as this many commits wait (default 64); also the most one transaction carries. */
  maxBatch?: number;
  /**
   * The longest a commit waits for company, ms. 0 (the default) flushes once the current turn of
   * the event loop is over: everything that finished in that turn shares the transaction, and as
   * the commit itself blocks the loop, the busier the runner the bigger the next batch.
   */
  maxDelayMs?: number;
}

export class CommitBatcherClosedError extends Error {
  override name = "CommitBatcherClosedError";
  constructor() {
    super("the commit batcher is closed: commit through the queue directly, or before closing");
  }
}

interface Pending {
  commit: JobCommit;
  resolve(value: boolean | FailResult): void;
  reject(error: unknown): void;
}

export class CommitBatcher {
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private pending: Pending[] = [];
  private cancelTimer: (() => void) | undefined;
  // One batch is written at a time, in arrival order. On a store whose commit takes a while
  // (asynchronous), what arrives meanwhile gathers and goes as the next batch the moment it ends.
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly queue: Pick<JobQueue, "commitMany">,
    options: CommitBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    this.maxDelayMs = options.maxDelayMs ?? 0;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      throw new RangeError(`maxBatch must be a whole number ≥ 1, got ${options.maxBatch}`);
    if (!(this.maxDelayMs >= 0) || !Number.isFinite(this.maxDelayMs))
      throw new RangeError(`maxDelayMs must be a finite number ≥ 0, got ${options.maxDelayMs}`);
  }

  /** Commits waiting for the next flush. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Finish the job as done/skipped with its outcome; false on a stale token (nothing changed). */
  ack(jobId: number, token: string, outcome: AckInput): Promise<boolean> {
    return this.commit({ kind: "ack", jobId, token, outcome }) as Promise<boolean>;
  }

  /** Count a failed try (see JobQueue.fail); `progress`, when given, is saved with it. */
  fail(jobId: number, token: string, failure: FailInput, progress?: unknown): Promise<FailResult | false> {
    return this.commit({ kind: "fail", jobId, token, failure, progress }) as Promise<FailResult | false>;
  }

  /** Give the job back without counting a try, recording what was tried and the plan progress. */
  release(
    jobId: number,
    token: string,
    until?: number,
    extra: { attempts?: readonly AttemptRecord[]; progress?: unknown } = {},
  ): Promise<boolean> {
    return this.commit({ kind: "release", jobId, token, until, ...extra }) as Promise<boolean>;
  }

  /** Any commit; resolves with its own result once the transaction that carried it has committed. */
  commit(commit: JobCommit): Promise<boolean | FailResult> {
    if (this.closed) return Promise.reject(new CommitBatcherClosedError());
    return new Promise((resolve, reject) => {
      this.pending.push({ commit, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.startFlush();
      else if (this.cancelTimer === undefined) this.cancelTimer = this.startTimer();
    });
  }

  /** Commit everything waiting now; resolves when it (and every earlier batch) has committed. */
  async flush(): Promise<void> {
    this.startFlush();
    while (this.writing) await this.writing;
  }

  /** Flush what waits and refuse new commits. */
  close(): Promise<void> {
    this.closed = true;
    return this.flush();
  }

  private startTimer(): () => void {
    if (this.maxDelayMs > 0) {
      const t = setTimeout(() => this.startFlush(), this.maxDelayMs);
      return () => clearTimeout(t);
    }
    const t = setImmediate(() => this.startFlush());
    return () => clearImmediate(t);
  }

  private startFlush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    // A batch in flight takes the rest with it when it ends (see below).
    if (this.writing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.maxBatch);
    this.writing = this.write(batch).then(() => {
      this.writing = null;
      // What arrived during the write has waited a whole commit already: it goes at once.
      this.startFlush();
    });
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      const results = await this.queue.commitMany(batch.map((p) => p.commit));
      if (results.length !== batch.length)
        throw new Error(`commitMany returned ${results.length} results for ${batch.length} commits`);
      for (const [i, p] of batch.entries()) {
        const r = results[i];
        if (r?.ok) p.resolve(r.value);
        else p.reject(r?.error);
      }
    } catch (error) {
      // The transaction as a whole failed: none of these commits took effect.
      for (const p of batch) p.reject(error);
    }
  }
}
