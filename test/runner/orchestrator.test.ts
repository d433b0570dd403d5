// The orchestrator over the real SQLite queue with an injected step: bounded concurrency, every job
// committed once, lease loss aborting the work, politeness releases, pause, and the shutdown grace.
// Where a test depends on the orchestrator's timers (polls, parks, grace) it fires them by hand, and
// it waits for events (a step started, a timer set), never for time to pass.
import type { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Artifact } from "../../src/artifact/artifact.ts";
import { Orchestrator, type OrchestratorOptions } from "../../src/runner/orchestrator.ts";
import type { JobStep, StepResult } from "../../src/runner/step.ts";
import type { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { ManualTimers } from "../support/manual-timers.ts";
import { FIXED_CLOCK, memoryQueue } from "../support/memory-queue.ts";

let db: Database;
let queue: SqliteJobQueue;
const clock = FIXED_CLOCK;

beforeEach(() => {
  ({ db, queue } = memoryQueue());
});
afterEach(() => db.close());

const works = (n: number): Artifact[] =>
  Array.from({ length: n }, (_, i) => ({ id: `doi:10.1/${i}`, doi: `10.1/${i}` }));

const ok: StepResult = { ok: true, reason: "ok", detail: { sha256: "00", bytes: 1 }, attempts: [] };

function orchestrator(step: JobStep, o: Partial<OrchestratorOptions> = {}): Orchestrator {
  return new Orchestrator({
    queue,
    owner: "test",
    step,
    maxWorkers: 4,
    leaseBatch: 8,
    heartbeatMs: 60_000,
    pollMs: 5,
    graceMs: 50,
    drain: true,
    drainMaxDelayMs: 0,
    now: () => clock,
    ...o,
  });
}

const row = (id: number) =>
  db
    .query<{ state: string; attempts: number; available_at: number; lease_token: string | null }, [number]>(
      "SELECT state, attempts, available_at, lease_token FROM jobs WHERE id = ?",
    )
    .get(id);

describe("orchestrator", () => {
  test("drains the queue: every job committed once, never more than maxWorkers at a time", async () => {
    await queue.enqueue(works(50));
    let running = 0;
    let peak = 0;
    const seen: string[] = [];
    const step: JobStep = async (job) => {
      running++;
      peak = Math.max(peak, running);
      seen.push(job.artifactId);
      // Yield once: the other workers started in the same turn overlap with this one.
      await Promise.resolve();
      running--;
      return ok;
    };
    // Group commit on: jobs finishing together share one transaction.
    const summary = await orchestrator(step, { groupCommit: true }).run();
    expect(summary).toMatchObject({ acked: 50, end: "drained", lost: 0 });
    expect(new Set(seen).size).toBe(50);
    expect(seen.length).toBe(50);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
    expect((await queue.stats()).counts.done).toBe(50);
  });

  test("without group commit, each job's fenced commit is written alone, once", async () => {
    await queue.enqueue(works(3));
    const written: { kind: string; jobId: number; token: string }[][] = [];
    const commitMany = queue.commitMany.bind(queue);
    queue.commitMany = (commits) => {
      written.push(commits.map((c) => ({ kind: c.kind, jobId: c.jobId, token: c.token })));
      return commitMany(commits);
    };
    const tokens = new Map<number, string>();
    const step: JobStep = async (job) => {
      tokens.set(job.id, job.token);
      return ok;
    };
    const summary = await orchestrator(step).run();
    expect(summary).toMatchObject({ acked: 3, lost: 0 });
    expect(written.map((batch) => batch.length)).toEqual([1, 1, 1]);
    expect(written.flat().sort((a, b) => a.jobId - b.jobId)).toEqual(
      [1, 2, 3].map((id) => ({ kind: "ack", jobId: id, token: tokens.get(id) as string })),
    );
  });

  test("group commit: a stale token in a batch changes nothing and does not undo the others", async () => {
    await queue.enqueue(works(4));
    const step: JobStep = async (job) => {
      // Job 2 is taken over by another runner while it works.
      if (job.id === 2) db.run("UPDATE jobs SET lease_token = 'theirs' WHERE id = 2");
      return ok;
    };
    let finished = 0;
    const o: Orchestrator = orchestrator(step, {
      drain: false,
      groupCommit: true,
      onOutcome: () => {
        if (++finished === 4) o.stop();
      },
    });
    const summary = await o.run();
    expect(summary).toMatchObject({ acked: 3, lost: 1 });
    expect(row(2)).toMatchObject({ state: "in_progress", lease_token: "theirs" });
    expect([1, 3, 4].map((id) => row(id)?.state)).toEqual(["done", "done", "done"]);
  });

  test("a lease lost to another runner aborts the job's work and writes nothing", async () => {
    await queue.enqueue(works(1));
    let signal: AbortSignal | undefined;
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    const step: JobStep = (_job, ctx) => {
      signal = ctx.signal;
      started();
      return new Promise((resolve) =>
        ctx.signal.addEventListener("abort", () =>
          resolve({
            ok: false,
            reason: "lease_lost",
            transient: true,
            deferred: false,
            message: "x",
            attempts: [],
          }),
        ),
      );
    };
    const lost: number[] = [];
    const o = orchestrator(step, { drain: false, onLeaseLost: (j) => lost.push(j.id) });
    const done = o.run();
    await running;
    // Another runner takes the job over (its lease expired here and was re-leased there).
    db.run("UPDATE jobs SET lease_token = 'theirs', lease_owner = 'other' WHERE id = 1");
    await o.heartbeat();
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe("lease_lost");
    o.stop();
    const summary = await done;
    expect(summary.lost).toBe(1);
    expect(lost).toEqual([1]);
    expect(row(1)).toMatchObject({ state: "in_progress", lease_token: "theirs", attempts: 0 });
    expect(db.query("SELECT count(*) AS n FROM outcomes").get()).toEqual({ n: 0 });
  });

  test("a job deferred by politeness goes back with available_at = retryAt and no attempt counted", async () => {
    await queue.enqueue(works(1));
    const retryAt = clock + 30_000;
    const step: JobStep = async () => ({
      ok: false,
      reason: "rate_limited",
      transient: true,
      deferred: true,
      retryAt,
      message: "host cooling down",
      attempts: [],
      progress: { version: 1, resolvers: {}, candidates: [], derived: {} },
    });
    const summary = await orchestrator(step).run();
    expect(summary).toMatchObject({ released: 1, failed: 0, end: "drained" });
    expect(row(1)).toMatchObject({ state: "queued", attempts: 0, available_at: retryAt });
    expect((await queue.show(1))?.job.progress).toEqual({
      version: 1,
      resolvers: {},
      candidates: [],
      derived: {},
    });
  });

  test("a short politeness wait is waited out without a worker or a release, then the job runs again", async () => {
    await queue.enqueue(works(1));
    let calls = 0;
    const step: JobStep = async () => {
      calls++;
      if (calls === 1)
        return {
          ok: false,
          reason: "rate_limited",
          transient: true,
          deferred: true,
          retryAt: clock + 30,
          message: "next token in 30 ms",
          attempts: [],
          progress: {
            version: 1,
            resolvers: { direct: { state: "settled", found: 1 } },
            candidates: [],
            derived: {},
          },
        };
      return ok;
    };
    const seen: unknown[] = [];
    const wrapped: JobStep = (job, ctx) => {
      seen.push(job.progress);
      return step(job, ctx);
    };
    const summary = await orchestrator(wrapped, { parkMaxMs: 1000 }).run();
    expect(calls).toBe(2);
    expect(summary).toMatchObject({ acked: 1, released: 0, end: "drained" });
    expect(row(1)).toMatchObject({ state: "done", attempts: 1 });
    // The second run continued from the first one's progress.
    expect(seen[1]).toMatchObject({ resolvers: { direct: { state: "settled" } } });
  });

  test("shutdown releases parked jobs until they were due, no attempt counted", async () => {
    await queue.enqueue(works(1));
    const until = clock + 60_000;
    const timers = new ManualTimers();
    const o = orchestrator(
      async () => ({
        ok: false,
        reason: "rate_limited",
        transient: true,
        deferred: true,
        retryAt: until,
        message: "later",
        attempts: [],
      }),
      { parkMaxMs: 120_000, drain: false, timers },
    );
    const done = o.run();
    // Parked: a timer set for when the job is due, the job still leased here.
    await timers.next((t) => t.ms === 60_000);
    expect(row(1)?.state).toBe("in_progress");
    timers.autoFire(); // the polls from here on
    o.stop();
    expect((await done).released).toBe(1);
    expect(row(1)).toMatchObject({ state: "queued", attempts: 0, available_at: until });
  });

  test("transient failures retry with backoff; a permanent one ends in error with its outcome", async () => {
    await queue.enqueue(works(2));
    const step: JobStep = async (job) =>
      job.id === 1
        ? { ok: false, reason: "timeout", transient: true, deferred: false, message: "slow", attempts: [] }
        : { ok: false, reason: "not_found", transient: false, deferred: false, message: "404", attempts: [] };
    const summary = await orchestrator(step).run();
    expect(summary.failed).toBe(2);
    expect(row(1)).toMatchObject({ state: "queued", attempts: 1 });
    expect(row(1)?.available_at).toBeGreaterThan(clock);
    expect(row(2)).toMatchObject({ state: "error", attempts: 1 });
  });

  test("while paused nothing is leased; after resume the work runs", async () => {
    await queue.enqueue(works(3));
    await queue.pause();
    let calls = 0;
    const timers = new ManualTimers();
    const o = orchestrator(
      async () => {
        calls++;
        return ok;
      },
      { drain: true, timers },
    );
    const done = o.run();
    // Three polls of the paused queue, each leasing nothing.
    for (let i = 0; i < 3; i++) timers.fire(await timers.next((t) => t.ms === 5));
    await timers.next((t) => t.ms === 5);
    expect(calls).toBe(0);
    expect((await queue.stats()).counts.queued).toBe(3);
    await queue.resume();
    timers.autoFire();
    expect((await done).acked).toBe(3);
  });

  test("shutdown: in-flight jobs get the grace period, then are aborted and released without an attempt", async () => {
    await queue.enqueue(works(6));
    let started = 0;
    let twoRunning!: () => void;
    const both = new Promise<void>((r) => {
      twoRunning = r;
    });
    const hangs: JobStep = (_job, ctx) =>
      new Promise((resolve) => {
        if (++started === 2) twoRunning();
        ctx.signal.addEventListener("abort", () =>
          resolve({
            ok: false,
            reason: "cancelled",
            transient: true,
            deferred: false,
            message: "stop",
            attempts: [],
          }),
        );
      });
    const timers = new ManualTimers();
    const o = orchestrator(hangs, { maxWorkers: 2, leaseBatch: 4, drain: false, graceMs: 30, timers });
    const done = o.run();
    await both;
    expect(o.inFlight).toBe(2);
    o.stop();
    expect(o.shuttingDown).toBe(true);
    // Neither job finishes within the grace: it runs out, and both are aborted.
    timers.fire(await timers.next((t) => t.ms === 30));
    const summary = await done;
    expect(summary.aborted).toBe(2);
    const s = await queue.stats();
    expect(s.counts).toMatchObject({ queued: 6, in_progress: 0 });
    expect(db.query("SELECT max(attempts) AS a FROM jobs").get()).toEqual({ a: 0 });
  });

  test("shutdown lets a job that finishes within the grace commit normally", async () => {
    await queue.enqueue(works(1));
    let finish!: () => void;
    let began!: () => void;
    const running = new Promise<void>((r) => {
      began = r;
    });
    const timers = new ManualTimers();
    const o = orchestrator(
      () =>
        new Promise((r) => {
          finish = () => r(ok);
          began();
        }),
      { drain: false, graceMs: 5_000, timers },
    );
    const done = o.run();
    await running;
    expect(o.inFlight).toBe(1);
    o.stop();
    await timers.next((t) => t.ms === 5_000); // the grace has begun and is never fired
    finish();
    expect((await done).acked).toBe(1);
    expect(row(1)?.state).toBe("done");
  });
});
