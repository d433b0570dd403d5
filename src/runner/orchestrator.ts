// The runner's engine: one async loop leases batches when the local backlog runs low, keeps up to
// `maxWorkers` jobs running, extends held leases on a heartbeat (a lease found lost aborts that
// job's work), and shuts down gracefully: stop leasing, let in-flight jobs finish within the grace
// period, then abort and release the rest. The queue's pause flag stops leasing by itself.

import { CommitBatcher } from "../store/commit-batcher.ts";
import type { JobQueue, LeasedJob } from "../store/types.ts";
import { noopTracer, type Tracer } from "../telemetry/tracing.ts";
import { drainVerdict } from "./drain.ts";
import { endJobTrace, outcomeAttributes, startJobTrace } from "./job-trace.ts";
import type { JobStep } from "./step.ts";
import { realTimers, type TimerHandle, type Timers } from "./timers.ts";
import { type HeldJob, type JobOutcome, runJob, write } from "./worker.ts";

export interface OrchestratorOptions {
  queue: JobQueue;
  /** This runner's identity in lease rows. */
  owner: string;
  step: JobStep;
  /** Group commit: jobs finishing in the same turn of the event loop share one transaction. */
  groupCommit?: boolean;
  maxWorkers: number;
  leaseBatch: number;
  heartbeatMs: number;
  pollMs: number;
  graceMs: number;
  /** Exit when the queue has nothing left for this run (see drain.ts). */
  drain: boolean;
  drainMaxDelayMs: number;
  now?: () => number;
  /** Least time between two progress saves of one job (default 1 s). */
  progressEveryMs?: number;
  /** After every job's commit attempt (metrics, manifest, progress). */
  onOutcome?(o: JobOutcome): void;
  onLeaseLost?(job: LeasedJob): void;
  onError?(what: string, error: unknown): void;
  onDrainExit?(info: { delayed: number; nextAvailableAt: number | null }): void;
  /** Free space on the library's disk (src/download/disk-space.ts): no leasing while not ready. */
  space?: { ready(): boolean };
  /**
   * A politeness deferral due within this many ms stays leased here and runs again when due (no
   * worker held meanwhile, no database round trip); later ones are released to the queue. 0: never.
   */
  parkMaxMs?: number;
  /** Most jobs parked at once (default 4 × maxWorkers); beyond it deferrals are released. */
  parkLimit?: number;
  /** One trace per leased job (job-trace.ts); the step gets the root span. Default: none. */
  tracer?: Tracer;
  /** Poll, park, heartbeat and grace timers (default: the runtime's). */
  timers?: Timers;
}

export interface RunSummary {
  /** Jobs committed by this runner, by kind of commit. */
  acked: number;
  failed: number;
  released: number;
  lost: number;
  /** How the run ended. */
  end: "drained" | "stopped";
  /** Jobs still running when the grace period ended (aborted and released). */
  aborted: number;
}

export class Orchestrator {
  private readonly held = new Map<number, HeldJob>();
  private readonly backlog: HeldJob[] = [];
  /** Deferred jobs kept leased, with the timer that brings each back. */
  private readonly parked = new Map<HeldJob, TimerHandle>();
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private paused = false;
  private wakeup: (() => void) | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly batcher: CommitBatcher | undefined;
  private readonly summary: RunSummary = {
    acked: 0,
    failed: 0,
    released: 0,
    lost: 0,
    end: "stopped",
    aborted: 0,
  };

  constructor(private readonly o: OrchestratorOptions) {
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? realTimers;
    this.batcher = o.groupCommit
      ? new CommitBatcher(o.queue, { maxBatch: Math.max(64, o.maxWorkers) })
      : undefined;
  }

  /** Jobs running now. */
  get inFlight(): number {
    return this.running.size;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  /** Begin a graceful shutdown: no more leases; run() finishes the rest. */
  /**
   * The queue was paused or resumed (a notification from the shared database): paused, jobs leased
   * but not started go back and nothing is leased; resumed, leasing starts at once instead of after
   * the poll interval. The queue's own gate stays the authority; this only makes it prompt.
   */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.wake();
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.wake();
  }

  async run(): Promise<RunSummary> {
    this.heartbeatTimer = this.timers.setInterval(() => void this.heartbeat(), this.o.heartbeatMs);
    try {
      await this.dispatch();
      await this.shutdown();
      await this.batcher?.close();
    } finally {
      this.timers.clearInterval(this.heartbeatTimer);
    }
    return { ...this.summary };
  }

  private wake(): void {
    const w = this.wakeup;
    this.wakeup = undefined;
    w?.();
  }

  /** Sleep until `ms` pass or something changes (a job finished, stop was asked). */
  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(() => {
        if (this.wakeup === done) this.wakeup = undefined;
        resolve();
      }, ms);
      const done = () => {
        this.timers.clearTimeout(timer);
        resolve();
      };
      this.wakeup = done;
    });
  }

  private async dispatch(): Promise<void> {
    const { maxWorkers, leaseBatch } = this.o;
    const lowWater = Math.max(1, Math.min(leaseBatch, maxWorkers));
    while (!this.stopping) {
      if (this.paused) {
        await this.releaseBacklog("paused");
        await this.idle(this.o.pollMs);
        continue;
      }
      if (this.o.space && !this.o.space.ready()) {
        // The library's disk is full: lease and start nothing until space returns (no attempt is
        // spent on a download that cannot be stored); leased jobs not yet started go back at once.
        await this.releaseBacklog("disk_full");
        await this.idle(this.o.pollMs);
        continue;
      }
      let leased = -1;
      if (this.backlog.length < lowWater) {
        try {
          const tracer = this.o.tracer ?? noopTracer;
          const from = tracer.now();
          const jobs = await this.o.queue.lease(this.o.owner, leaseBatch);
          leased = jobs.length;
          const lease = { owner: this.o.owner, from, to: tracer.now(), batch: jobs.length };
          for (const job of jobs) {
            const h: HeldJob = {
              job,
              controller: new AbortController(),
              span: startJobTrace(tracer, job, lease),
            };
            this.held.set(job.id, h);
            this.backlog.push(h);
          }
        } catch (e) {
          this.o.onError?.("lease", e);
          leased = 0;
        }
        if (this.stopping) break;
      }
      while (this.running.size < maxWorkers && this.backlog.length > 0)
        this.start(this.backlog.shift() as HeldJob);

      if (leased === 0 && this.running.size === 0 && this.backlog.length === 0 && this.parked.size === 0) {
        if (this.o.drain) {
          let verdict: ReturnType<typeof drainVerdict>;
          try {
            verdict = drainVerdict(await this.o.queue.stats(), this.now(), {
              maxDelayMs: this.o.drainMaxDelayMs,
              pollMs: this.o.pollMs,
            });
          } catch (e) {
            this.o.onError?.("stats", e);
            verdict = { kind: "wait", ms: this.o.pollMs, why: "ready" };
          }
          if (verdict.kind === "exit") {
            this.summary.end = "drained";
            this.o.onDrainExit?.({ delayed: verdict.delayed, nextAvailableAt: verdict.nextAvailableAt });
            return;
          }
          await this.idle(verdict.ms);
        } else {
          await this.idle(this.o.pollMs);
        }
      } else if (leased === 0 || this.running.size >= maxWorkers || this.backlog.length >= lowWater) {
        // Nothing more to lease right now, or every worker is busy: wait for a job to finish.
        await this.idle(this.o.pollMs);
      }
    }
  }

  private async releaseBacklog(reason: "disk_full" | "paused"): Promise<void> {
    for (const h of this.backlog.splice(0)) {
      this.held.delete(h.job.id);
      endJobTrace(h.span, { outcome: "release", state: "queued", reason });
      try {
        if (await this.o.queue.release(h.job.id, h.job.token)) this.summary.released++;
      } catch (e) {
        this.o.onError?.("release", e);
      }
    }
  }

  private start(h: HeldJob): void {
    const p: Promise<void> = runJob(h, {
      queue: this.o.queue,
      commit: (c) => (this.batcher ? this.batcher.commit(c) : write(this.o.queue, c)),
      step: this.o.step,
      now: this.now,
      progressEveryMs: this.o.progressEveryMs ?? 1000,
      onLeaseLost: (x) => this.leaseLost(x),
      park: (x, until, progress) => this.park(x, until, progress),
      onError: (_job, e) => this.o.onError?.("job", e),
    })
      .then(
        (outcome) => this.finished(h, outcome),
        (e) => {
          // The commit itself threw (database unavailable): the lease runs out and the job comes back.
          endJobTrace(h.span, { outcome: "commit_failed" }, "commit failed");
          this.o.onError?.("commit", e);
        },
      )
      .finally(() => {
        if (!this.parked.has(h)) this.held.delete(h.job.id);
        this.running.delete(p);
        this.wake();
      });
    this.running.add(p);
  }

  private park(h: HeldJob, until: number, progress: unknown): boolean {
    const max = this.o.parkMaxMs ?? 0;
    const delay = until - this.now();
    if (this.stopping || delay > max || this.parked.size >= (this.o.parkLimit ?? 4 * this.o.maxWorkers))
      return false;
    if (progress !== undefined) h.job.progress = progress;
    h.committing = false;
    const timer = this.timers.setTimeout(
      () => {
        this.parked.delete(h);
        if (h.cause) return;
        this.backlog.unshift(h);
        this.wake();
      },
      Math.max(0, delay),
    );
    this.parked.set(h, timer);
    h.until = until;
    return true;
  }

  private finished(h: HeldJob, outcome: JobOutcome): void {
    if (outcome.parked) return; // runs again shortly, in the same trace
    const traced = outcomeAttributes(outcome);
    endJobTrace(h.span, traced.attributes, traced.error);
    if (!outcome.committed) {
      this.summary.lost++;
      if (outcome.commit.kind !== "abandon" || h.cause === "lease_lost") this.o.onLeaseLost?.(h.job);
    } else if (outcome.commit.kind === "ack") this.summary.acked++;
    else if (outcome.commit.kind === "fail") this.summary.failed++;
    else if (outcome.commit.kind === "release") this.summary.released++;
    this.o.onOutcome?.(outcome);
  }

  private leaseLost(h: HeldJob): void {
    if (h.cause || h.committing) return;
    h.cause = "lease_lost";
    h.controller.abort("lease_lost");
    const timer = this.parked.get(h);
    if (timer !== undefined) {
      this.timers.clearTimeout(timer);
      this.parked.delete(h);
    }
    const i = this.backlog.indexOf(h);
    if (i >= 0 || timer !== undefined) {
      if (i >= 0) this.backlog.splice(i, 1);
      // Not running: nothing to abort, just forget it.
      this.held.delete(h.job.id);
      endJobTrace(h.span, { outcome: "lease_lost" }, "lease_lost");
      this.summary.lost++;
      this.o.onLeaseLost?.(h.job);
    }
  }

  /** Extend every held lease; a lease another runner took over aborts its job's work. */
  async heartbeat(): Promise<void> {
    const holding = [...this.held.values()].filter((h) => !h.cause && !h.committing);
    if (holding.length === 0) return;
    let kept: Set<number>;
    try {
      kept = new Set(
        await this.o.queue.heartbeat(holding.map((h) => ({ jobId: h.job.id, token: h.job.token }))),
      );
    } catch (e) {
      this.o.onError?.("heartbeat", e);
      return;
    }
    for (const h of holding) if (!kept.has(h.job.id) && this.held.get(h.job.id) === h) this.leaseLost(h);
  }

  private async shutdown(): Promise<void> {
    // Parked: back to the queue until they were due. Leased but never started: back at once.
    // No attempt counted either way.
    const waiting: { h: HeldJob; until?: number }[] = [];
    for (const [h, timer] of this.parked) {
      this.timers.clearTimeout(timer);
      waiting.push({ h, until: h.until });
    }
    this.parked.clear();
    for (const h of this.backlog.splice(0)) waiting.push({ h, until: h.until });
    for (const { h, until } of waiting) {
      this.held.delete(h.job.id);
      endJobTrace(h.span, { outcome: "release", state: "queued", reason: "shutdown" });
      try {
        if (await this.o.queue.release(h.job.id, h.job.token, until)) this.summary.released++;
      } catch (e) {
        this.o.onError?.("release", e);
      }
    }
    if (this.running.size === 0) return;
    const graceOver = new Promise<"grace">((resolve) => {
      const t = this.timers.setTimeout(() => resolve("grace"), this.o.graceMs);
      (t as { unref?: () => void }).unref?.();
    });
    const allDone = Promise.all([...this.running]).then(() => "done" as const);
    if ((await Promise.race([allDone, graceOver])) === "grace") {
      // Out of time: abort what is left; each worker then releases its job (no attempt counted).
      for (const h of this.held.values()) {
        if (h.cause || h.committing) continue;
        h.cause = "shutdown";
        this.summary.aborted++;
        h.controller.abort("cancelled");
      }
      await allDone;
    }
  }
}
