// The JobQueue contract as a test suite over any implementation: call `describeJobQueueContract`
// with a factory (SQLite today, Postgres later). Time is a fake clock; nothing sleeps.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Artifact } from "../../src/artifact/artifact.ts";
import { CommitBatcher, CommitBatcherClosedError } from "../../src/store/commit-batcher.ts";
import type { QueuePolicy } from "../../src/store/sqlite-queue.ts";
import type { JobCommit, JobQueue, LeasedJob } from "../../src/store/types.ts";

export interface ContractQueue {
  queue: JobQueue;
  close(): void | Promise<void>;
}

export interface ContractDeps {
  now: () => number;
  random: () => number;
  policy: QueuePolicy;
}

export type QueueFactory = (deps: ContractDeps) => ContractQueue | Promise<ContractQueue>;

const T0 = 1_700_000_000_000;
const POLICY: QueuePolicy = { leaseTtlMs: 10_000, maxAttempts: 3, backoff: { baseMs: 1_000, capMs: 60_000 } };

/** The value, or a failed test when it is missing. */
export function must<T>(x: T | null | undefined): T {
  if (x === null || x === undefined) throw new Error("expected a value");
  return x;
}

export function art(n: number, extra: Partial<Artifact> = {}): Artifact {
  return { id: `doi:10.1000/${n}`, doi: `10.1000/${n}`, ...extra };
}

export function describeJobQueueContract(name: string, factory: QueueFactory): void {
  describe(`JobQueue contract: ${name}`, () => {
    let clock = T0;
    let randomValue = 0.5;
    let q: JobQueue;
    let handle: ContractQueue;

    beforeEach(async () => {
      clock = T0;
      randomValue = 0.5;
      handle = await factory({ now: () => clock, random: () => randomValue, policy: POLICY });
      q = handle.queue;
    });
    afterEach(async () => {
      await handle.close();
    });

    test("enqueue counts new and duplicate artifacts; the same id twice is one job", async () => {
      expect(await q.enqueue([art(1), art(2)])).toEqual({ added: 2, duplicate: 0 });
      expect(await q.enqueue([art(2), art(3), art(3)])).toEqual({ added: 1, duplicate: 2 });
      expect((await q.stats()).counts.queued).toBe(3);
    });

    test("lease returns exactly the jobs it claimed, each with its own token", async () => {
      await q.enqueue([1, 2, 3, 4, 5].map((n) => art(n)));
      const first = await q.lease("w1", 3);
      expect(first).toHaveLength(3);
      expect(new Set(first.map((j) => j.token)).size).toBe(3);
      expect(first.every((j) => j.owner === "w1" && j.leaseExpiresAt === T0 + POLICY.leaseTtlMs)).toBe(true);
      const second = await q.lease("w2", 3);
      expect(second).toHaveLength(2);
      const ids = [...first, ...second].map((j) => j.id);
      expect(new Set(ids).size).toBe(5);
      expect(await q.lease("w3", 3)).toEqual([]);
      const stats = await q.stats();
      expect(stats.counts.in_progress).toBe(5);
      expect(stats.counts.queued).toBe(0);
    });

    test("leased jobs carry the stored artifact", async () => {
      await q.enqueue([
        art(7, { title: "Seven", pdf_urls: ["https://example.org/7.pdf"], meta: { k: [1] } }),
      ]);
      const [job] = await q.lease("w", 1);
      expect(job?.artifactId).toBe("doi:10.1000/7");
      expect(job?.artifact).toEqual(
        art(7, { title: "Seven", pdf_urls: ["https://example.org/7.pdf"], meta: { k: [1] } }),
      );
      expect(job?.attempts).toBe(0);
      expect(job?.progress).toBeNull();
    });

    test("lease n <= 0 claims nothing", async () => {
      await q.enqueue([art(1)]);
      expect(await q.lease("w", 0)).toEqual([]);
      expect((await q.stats()).counts.queued).toBe(1);
    });

    test("higher priority first, then first ready, then first enqueued", async () => {
      await q.enqueue([art(1, { priority: 0 }), art(2, { priority: 5 }), art(3, { priority: 1 })]);
      clock += 1;
      await q.enqueue([art(4, { priority: 5 }), art(5, { priority: 0 })]);
      const order: string[] = [];
      for (;;) {
        const [job] = await q.lease("w", 1);
        if (!job) break;
        order.push(job.artifactId);
      }
      expect(order).toEqual([
        "doi:10.1000/2",
        "doi:10.1000/4",
        "doi:10.1000/3",
        "doi:10.1000/1",
        "doi:10.1000/5",
      ]);
    });

    test("a batch comes back best first", async () => {
      await q.enqueue([art(1), art(2, { priority: 9 }), art(3, { priority: 3 })]);
      expect((await q.lease("w", 10)).map((j) => j.priority)).toEqual([9, 3, 0]);
    });

    test("ack finishes the job with its outcome and attempts in one step", async () => {
      await q.enqueue([art(1)]);
      const [job] = await q.lease("w", 1);
      if (!job) throw new Error("no job");
      clock += 250;
      const ok = await q.ack(job.id, job.token, {
        state: "done",
        reason: "ok",
        resolver: "direct",
        tier: 1,
        url: "https://example.org/1.pdf",
        finalUrl: "https://cdn.example.org/1.pdf",
        sha256: "ab".repeat(32),
        bytes: 1234,
        contentType: "application/pdf",
        path: "pdf/ab/abab.pdf",
        etag: '"e1"',
        lastModified: "Tue, 01 Jan 2030 00:00:00 GMT",
        attempts: [
          {
            resolver: "direct",
            tier: 1,
            url: "https://example.org/1.pdf",
            host: "example.org",
            httpStatus: 200,
            reason: "ok",
            bytes: 1234,
            elapsedMs: 40,
            rateWaitMs: 5,
          },
        ],
      });
      expect(ok).toBe(true);
      const detail = await q.show(job.artifactId);
      expect(detail?.job.state).toBe("done");
      expect(detail?.job.attempts).toBe(1);
      expect(detail?.job.leaseOwner).toBeNull();
      expect(detail?.attempts).toHaveLength(1);
      expect(detail?.attempts[0]).toMatchObject({
        resolver: "direct",
        httpStatus: 200,
        host: "example.org",
        at: T0 + 250,
      });
      expect(detail?.outcomes).toHaveLength(1);
      expect(detail?.outcomes[0]).toMatchObject({
        state: "done",
        reason: "ok",
        sha256: "ab".repeat(32),
        bytes: 1234,
        finalUrl: "https://cdn.example.org/1.pdf",
        firstAttemptAt: T0,
        finishedAt: T0 + 250,
        attempts: 1,
      });
      expect(await q.ack(job.id, job.token, { state: "done", reason: "ok" })).toBe(false);
      expect((await q.show(job.id))?.outcomes).toHaveLength(1);
    });

    test("ack as skipped", async () => {
      await q.enqueue([art(1)]);
      const [job] = await q.lease("w", 1);
      expect(
        await q.ack(must(job).id, must(job).token, { state: "skipped", reason: "robots_disallowed" }),
      ).toBe(true);
      const detail = await q.show(must(job).id);
      expect(detail?.job.state).toBe("skipped");
      expect(detail?.outcomes[0]?.reason).toBe("robots_disallowed");
    });

    test("an expired lease is re-leased and the old token can no longer act", async () => {
      await q.enqueue([art(1)]);
      const [old] = await q.lease("w1", 1);
      if (!old) throw new Error("no job");
      clock += POLICY.leaseTtlMs - 1;
      expect(await q.lease("w2", 1)).toEqual([]);
      clock += 1;
      const [fresh] = await q.lease("w2", 1);
      expect(fresh?.id).toBe(old.id);
      expect(fresh?.token).not.toBe(old.token);
      expect(fresh?.attempts).toBe(1); // the lost lease counted as a try
      expect(await q.ack(old.id, old.token, { state: "done", reason: "ok" })).toBe(false);
      expect(await q.fail(old.id, old.token, { reason: "timeout", transient: true })).toBe(false);
      expect(await q.release(old.id, old.token)).toBe(false);
      expect(await q.heartbeat([{ jobId: old.id, token: old.token }])).toEqual([]);
      expect(await q.saveProgress(old.id, old.token, { zombie: true })).toBe(false);
      expect(await q.recordAttempts(old.id, old.token, [{ reason: "zombie" }])).toBe(false);
      const detail = await q.show(old.id);
      expect(detail?.job.state).toBe("in_progress");
      expect(detail?.job.leaseOwner).toBe("w2");
      expect(detail?.job.progress).toBeNull();
      expect(detail?.attempts).toEqual([]);
      expect(await q.ack(must(fresh).id, must(fresh).token, { state: "done", reason: "ok" })).toBe(true);
      expect((await q.show(old.id))?.outcomes).toHaveLength(1);
    });

    test("a job whose lease keeps expiring ends in error (lease_lost) after max attempts", async () => {
      await q.enqueue([art(1)]);
      for (let tries = 0; tries < POLICY.maxAttempts; tries++) {
        const [job] = await q.lease("crashing", 1);
        expect(job?.attempts).toBe(tries);
        clock += POLICY.leaseTtlMs;
      }
      // The last lease expired too: that was the final try.
      expect(await q.lease("next", 1)).toEqual([]);
      const detail = await q.show("doi:10.1000/1");
      expect(detail?.job).toMatchObject({
        state: "error",
        lastReason: "lease_lost",
        attempts: POLICY.maxAttempts,
      });
      expect(detail?.outcomes).toHaveLength(1);
      expect(detail?.outcomes[0]).toMatchObject({
        state: "error",
        reason: "lease_lost",
        attempts: POLICY.maxAttempts,
      });
      expect((await q.stats()).counts.error).toBe(1);
    });

    test("heartbeat keeps a lease alive and reports which leases it extended", async () => {
      await q.enqueue([art(1), art(2)]);
      const [a, b] = await q.lease("w1", 2);
      clock += POLICY.leaseTtlMs - 100;
      expect(await q.heartbeat([{ jobId: must(a).id, token: must(a).token }])).toEqual([must(a).id]);
      clock += 200; // b expired, a extended
      const taken = await q.lease("w2", 5);
      expect(taken.map((j) => j.id)).toEqual([must(b).id]);
      expect(
        await q.heartbeat([
          { jobId: must(a).id, token: must(a).token },
          { jobId: must(b).id, token: must(b).token },
        ]),
      ).toEqual([must(a).id]);
      expect(await q.ack(must(a).id, must(a).token, { state: "done", reason: "ok" })).toBe(true);
    });

    test("fail backs off with jitter, becomes ready again, and ends in error after max attempts", async () => {
      await q.enqueue([art(1)]);
      let [job] = await q.lease("w", 1);
      randomValue = 0.5;
      const r1 = await q.fail(must(job).id, must(job).token, {
        reason: "timeout",
        message: "slow",
        transient: true,
      });
      // attempt 1: ceiling = base = 1000 ms, draw 0.5 → 500 ms
      expect(r1).toEqual({ state: "queued", availableAt: T0 + 500, attempts: 1 });
      expect(await q.lease("w", 1)).toEqual([]);
      const s = await q.stats();
      expect(s.delayed).toBe(1);
      expect(s.nextAvailableAt).toBe(T0 + 500);
      clock = T0 + 500;
      [job] = await q.lease("w", 1);
      expect(job?.attempts).toBe(1);
      randomValue = 0.999;
      const r2 = await q.fail(must(job).id, must(job).token, { reason: "http_503", transient: true });
      // attempt 2: ceiling = 2000 ms
      expect(r2).toEqual({ state: "queued", availableAt: clock + 1998, attempts: 2 });
      clock += 1998;
      [job] = await q.lease("w", 1);
      const r3 = await q.fail(must(job).id, must(job).token, {
        reason: "http_503",
        transient: true,
        detail: { url: "https://example.org/x.pdf", resolver: "direct" },
      });
      expect(r3).toEqual({ state: "error", attempts: 3 });
      const detail = await q.show(must(job).id);
      expect(detail?.job.state).toBe("error");
      expect(detail?.job.lastReason).toBe("http_503");
      expect(detail?.outcomes).toHaveLength(1);
      expect(detail?.outcomes[0]).toMatchObject({
        state: "error",
        reason: "http_503",
        attempts: 3,
        url: "https://example.org/x.pdf",
      });
      clock += 10 * 60_000;
      expect(await q.lease("w", 1)).toEqual([]);
    });

    test("a permanent failure ends the job at once", async () => {
      await q.enqueue([art(1)]);
      const [job] = await q.lease("w", 1);
      expect(await q.fail(must(job).id, must(job).token, { reason: "not_found", transient: false })).toEqual({
        state: "error",
        attempts: 1,
      });
      expect((await q.stats()).counts.error).toBe(1);
    });

    test("the origin's Retry-After replaces the backoff draw", async () => {
      await q.enqueue([art(1)]);
      const [job] = await q.lease("w", 1);
      const r = await q.fail(must(job).id, must(job).token, {
        reason: "rate_limited",
        transient: true,
        retryAt: T0 + 900_000,
      });
      expect(r).toEqual({ state: "queued", availableAt: T0 + 900_000, attempts: 1 });
    });

    test("fail records the attempts it is given, with the lease token check", async () => {
      await q.enqueue([art(1)]);
      const [job] = await q.lease("w", 1);
      await q.fail(must(job).id, must(job).token, {
        reason: "conn_error",
        transient: true,
        attempts: [
          { url: "https://a.example/x", reason: "conn_error" },
          { url: "https://b.example/y", reason: "timeout" },
        ],
      });
      expect((await q.show(must(job).id))?.attempts.map((a) => a.reason)).toEqual(["conn_error", "timeout"]);
    });

    test("release gives a job back without counting a try", async () => {
      await q.enqueue([art(1)]);
      let [job] = await q.lease("w", 1);
      expect(await q.release(must(job).id, must(job).token, T0 + 5_000)).toBe(true);
      expect(await q.release(must(job).id, must(job).token)).toBe(false);
      expect(await q.lease("w", 1)).toEqual([]);
      clock = T0 + 5_000;
      [job] = await q.lease("w", 1);
      expect(job?.attempts).toBe(0);
      expect(await q.release(must(job).id, must(job).token)).toBe(true);
      [job] = await q.lease("w", 1);
      expect(job?.attempts).toBe(0);
    });

    test("pause stops leasing until resume; in-flight leases still finish", async () => {
      await q.enqueue([art(1), art(2)]);
      const [held] = await q.lease("w", 1);
      await q.pause();
      expect(await q.isPaused()).toBe(true);
      expect(await q.lease("w", 5)).toEqual([]);
      expect((await q.stats()).paused).toBe(true);
      expect(await q.ack(must(held).id, must(held).token, { state: "done", reason: "ok" })).toBe(true);
      await q.resume();
      expect(await q.isPaused()).toBe(false);
      expect(await q.lease("w", 5)).toHaveLength(1);
    });

    test("concurrent leasers never receive the same job", async () => {
      await q.enqueue(Array.from({ length: 200 }, (_, i) => art(i)));
      const batches = await Promise.all(Array.from({ length: 8 }, (_, i) => q.lease(`w${i}`, 30)));
      const ids = batches.flat().map((j) => j.id);
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
    });

    test("saved progress comes back with the next lease", async () => {
      await q.enqueue([art(1)]);
      let [job] = await q.lease("w", 1);
      expect(await q.saveProgress(must(job).id, must(job).token, { tried: ["direct"], next_tier: 2 })).toBe(
        true,
      );
      await q.fail(must(job).id, must(job).token, { reason: "timeout", transient: true });
      clock += POLICY.backoff.capMs;
      [job] = await q.lease("w", 1);
      expect(job?.progress).toEqual({ tried: ["direct"], next_tier: 2 });
    });

    test("recordAttempts appends rows while the lease is held", async () => {
      await q.enqueue([art(1)]);
      const [job] = await q.lease("w", 1);
      expect(
        await q.recordAttempts(must(job).id, must(job).token, [
          { resolver: "unpaywall", tier: 2, reason: "no_candidates" },
        ]),
      ).toBe(true);
      expect(await q.recordAttempts(must(job).id, "not-the-token", [{ reason: "forged" }])).toBe(false);
      const attempts = (await q.show(must(job).id))?.attempts ?? [];
      expect(attempts.map((a) => a.resolver)).toEqual(["unpaywall"]);
    });

    test("stats: counts, ready vs delayed, expired leases, oldest ready age, throughput", async () => {
      await q.enqueue([art(1), art(2), art(3), art(4)]);
      clock += 2_000;
      const [a, b] = await q.lease("w", 3); // the third stays in progress
      await q.ack(must(a).id, must(a).token, { state: "done", reason: "ok" });
      await q.fail(must(b).id, must(b).token, { reason: "timeout", transient: true }); // delayed ≤ 1 s
      let s = await q.stats();
      expect(s.counts).toEqual({ queued: 2, in_progress: 1, done: 1, skipped: 0, error: 0 });
      expect(s.total).toBe(4);
      expect(s.ready).toBe(1);
      expect(s.delayed).toBe(1);
      expect(s.oldestReadyAgeMs).toBe(2_000);
      expect(s.throughput.lastMinute).toBe(1);
      expect(s.expired).toBe(0);
      clock += POLICY.leaseTtlMs;
      s = await q.stats();
      expect(s.expired).toBe(1);
      expect(s.ready).toBe(2);
      expect(s.delayed).toBe(0);
      expect(s.throughput.lastMinute).toBe(1);
      clock += 120_000;
      s = await q.stats();
      expect(s.throughput.lastMinute).toBe(0);
      expect(s.throughput.last15MinutesPerMinute).toBeCloseTo(1 / 15);
    });

    test("list filters by state and reason and pages with a cursor, newest first", async () => {
      await q.enqueue(Array.from({ length: 7 }, (_, i) => art(i)));
      const leased = await q.lease("w", 3);
      for (const j of leased)
        await q.fail(j.id, j.token, { reason: j.id % 2 ? "not_found" : "forbidden", transient: false });
      const errors = await q.list({ state: "error" });
      expect(errors.jobs.map((j) => j.id)).toEqual(leased.map((j) => j.id).sort((x, y) => y - x));
      const notFound = await q.list({ state: "error", reason: "not_found" });
      expect(notFound.jobs.every((j) => j.lastReason === "not_found")).toBe(true);
      expect(notFound.jobs.length).toBe(leased.filter((j) => j.id % 2).length);
      const p1 = await q.list({ limit: 4 });
      expect(p1.jobs).toHaveLength(4);
      expect(p1.nextCursor).not.toBeNull();
      const p2 = await q.list({ limit: 4, cursor: p1.nextCursor ?? undefined });
      expect(p2.jobs).toHaveLength(3);
      expect(p2.nextCursor).toBeNull();
      const all = [...p1.jobs, ...p2.jobs].map((j) => j.id);
      expect(new Set(all).size).toBe(7);
      expect(all).toEqual([...all].sort((x, y) => y - x));
    });

    test("show finds a job by artifact id or job id, and null otherwise", async () => {
      await q.enqueue([art(1)]);
      const byArtifact = await q.show("doi:10.1000/1");
      expect(byArtifact?.job.artifactId).toBe("doi:10.1000/1");
      expect((await q.show(must(byArtifact).job.id))?.job.artifactId).toBe("doi:10.1000/1");
      expect((await q.show(String(must(byArtifact).job.id)))?.job.id).toBe(must(byArtifact).job.id);
      expect(await q.show("doi:10.1000/404")).toBeNull();
      expect(await q.show(999_999)).toBeNull();
    });

    test("retryFailed moves error jobs back (by reason, or all) and dry-run changes nothing", async () => {
      await q.enqueue([art(1), art(2), art(3)]);
      const jobs = await q.lease("w", 3);
      await q.fail(must(jobs[0]).id, must(jobs[0]).token, { reason: "not_found", transient: false });
      await q.fail(must(jobs[1]).id, must(jobs[1]).token, { reason: "timeout", transient: false });
      await q.ack(must(jobs[2]).id, must(jobs[2]).token, { state: "done", reason: "ok" });
      expect(await q.retryFailed({ reason: "timeout", dryRun: true })).toBe(1);
      expect((await q.stats()).counts.error).toBe(2);
      expect(await q.retryFailed({ reason: "timeout" })).toBe(1);
      let s = await q.stats();
      expect(s.counts).toMatchObject({ error: 1, queued: 1, done: 1 });
      const [again] = await q.lease("w", 1);
      expect(again?.id).toBe(must(jobs[1]).id);
      expect(again?.attempts).toBe(0);
      expect(await q.retryFailed()).toBe(1);
      s = await q.stats();
      expect(s.counts.error).toBe(0);
    });

    test("requeue puts named jobs back unless a runner holds them", async () => {
      await q.enqueue([art(1), art(2), art(3)]);
      const jobs = await q.lease("w", 3);
      await q.ack(must(jobs[0]).id, must(jobs[0]).token, { state: "done", reason: "ok" });
      await q.fail(must(jobs[1]).id, must(jobs[1]).token, { reason: "not_found", transient: false });
      const r = await q.requeue([
        must(jobs[0]).artifactId,
        must(jobs[1]).id,
        must(jobs[2]).artifactId,
        "doi:10.1/none",
      ]);
      expect(r.requeued.sort()).toEqual([must(jobs[0]).id, must(jobs[1]).id].sort());
      expect(r.inProgress).toEqual([must(jobs[2]).artifactId]);
      expect(r.notFound).toEqual(["doi:10.1/none"]);
      expect(await q.ack(must(jobs[2]).id, must(jobs[2]).token, { state: "done", reason: "ok" })).toBe(true);
      const again = await q.lease("w", 5);
      expect(again.map((j) => j.id).sort()).toEqual([must(jobs[0]).id, must(jobs[1]).id].sort());
      // A requeued done job can finish again: a second outcome, never an overwrite.
      const redo = must(again.find((j) => j.id === must(jobs[0]).id));
      await q.ack(redo.id, redo.token, { state: "done", reason: "not_modified" });
      expect((await q.show(redo.id))?.outcomes.map((o) => o.reason)).toEqual(["ok", "not_modified"]);
    });
    // ---- Group commit: commitMany and the CommitBatcher over it ----

    /** A job's row, attempts and outcomes, for "nothing changed" comparisons. */
    async function snapshot(id: number) {
      const d = must(await q.show(id));
      return { job: d.job, attempts: d.attempts, outcomes: d.outcomes };
    }

    test("commitMany: ack, fail and release in one call, each with its own result", async () => {
      await q.enqueue([art(1), art(2), art(3)]);
      const [a, b, c] = (await q.lease("w", 3)).map(must);
      clock += 100;
      const results = await q.commitMany([
        {
          kind: "ack",
          jobId: must(a).id,
          token: must(a).token,
          outcome: { state: "done", reason: "ok", sha256: "cd".repeat(32), attempts: [{ reason: "ok" }] },
        },
        {
          kind: "fail",
          jobId: must(b).id,
          token: must(b).token,
          failure: { reason: "timeout", transient: true, attempts: [{ reason: "timeout" }] },
          progress: { next_tier: 2 },
        },
        {
          kind: "release",
          jobId: must(c).id,
          token: must(c).token,
          until: T0 + 5_000,
          attempts: [{ reason: "host_cooldown", host: "example.org" }],
          progress: { tried: ["direct"] },
        },
      ]);
      expect(results).toEqual([
        { ok: true, value: true },
        // Same backoff as a single fail: attempt 1, ceiling 1000 ms, draw 0.5.
        { ok: true, value: { state: "queued", availableAt: T0 + 100 + 500, attempts: 1 } },
        { ok: true, value: true },
      ]);
      const da = await snapshot(must(a).id);
      expect(da.job).toMatchObject({ state: "done", attempts: 1, leaseOwner: null });
      expect(da.outcomes).toHaveLength(1);
      expect(da.outcomes[0]).toMatchObject({ state: "done", sha256: "cd".repeat(32), finishedAt: T0 + 100 });
      expect(da.attempts.map((x) => x.reason)).toEqual(["ok"]);
      const db = await snapshot(must(b).id);
      expect(db.job).toMatchObject({ state: "queued", attempts: 1, progress: { next_tier: 2 } });
      expect(db.attempts.map((x) => x.reason)).toEqual(["timeout"]);
      const dc = await snapshot(must(c).id);
      expect(dc.job).toMatchObject({ state: "queued", attempts: 0, availableAt: T0 + 5_000 });
      expect(dc.job.progress).toEqual({ tried: ["direct"] });
      expect(dc.attempts.map((x) => x.host)).toEqual(["example.org"]);
      expect(await q.commitMany([])).toEqual([]);
    });

    test("commitMany: stale and forged tokens are false and change nothing", async () => {
      await q.enqueue([art(1), art(2), art(3)]);
      const old = await q.lease("w1", 3);
      clock += POLICY.leaseTtlMs;
      const fresh = await q.lease("w2", 3); // the old leases expired: every job is w2's now
      expect(fresh).toHaveLength(3);
      const before = await Promise.all(old.map((j) => snapshot(j.id)));
      const [j1, j2, j3] = old.map(must);
      const results = await q.commitMany([
        { kind: "ack", jobId: must(j1).id, token: must(j1).token, outcome: { state: "done", reason: "ok" } },
        {
          kind: "fail",
          jobId: must(j2).id,
          token: must(j2).token,
          failure: { reason: "not_found", transient: false, attempts: [{ reason: "zombie" }] },
          progress: { zombie: true },
        },
        {
          kind: "release",
          jobId: must(j3).id,
          token: must(j3).token,
          attempts: [{ reason: "zombie" }],
          progress: { zombie: true },
        },
        { kind: "ack", jobId: must(j3).id, token: "forged", outcome: { state: "done", reason: "ok" } },
      ]);
      expect(results).toEqual([
        { ok: true, value: false },
        { ok: true, value: false },
        { ok: true, value: false },
        { ok: true, value: false },
      ]);
      expect(await Promise.all(old.map((j) => snapshot(j.id)))).toEqual(before);
      // The holders' tokens still work.
      const acks = await q.commitMany(
        fresh.map((j) => ({
          kind: "ack",
          jobId: j.id,
          token: j.token,
          outcome: { state: "done", reason: "ok" },
        })),
      );
      expect(acks.every((r) => r.ok && r.value === true)).toBe(true);
    });

    test("commitMany: a mixed batch — a throwing item is undone alone, the others stand", async () => {
      await q.enqueue([1, 2, 3, 4, 5].map((n) => art(n)));
      const jobs = (await q.lease("w", 5)).map(must);
      const [a, b, c, d, e] = jobs as [LeasedJob, LeasedJob, LeasedJob, LeasedJob, LeasedJob];
      const beforeC = await snapshot(c.id);
      const ok = { state: "done", reason: "ok" } as const;
      const results = await q.commitMany([
        { kind: "ack", jobId: a.id, token: a.token, outcome: ok },
        { kind: "ack", jobId: b.id, token: "stale", outcome: ok },
        // Fails after the job row has changed (an attempt that cannot be stored): must be undone whole.
        {
          kind: "ack",
          jobId: c.id,
          token: c.token,
          outcome: { ...ok, attempts: [{ url: new URL("https://example.org/") as unknown as string }] },
        },
        { kind: "fail", jobId: d.id, token: d.token, failure: { reason: "not_found", transient: false } },
        { kind: "ack", jobId: a.id, token: a.token, outcome: ok }, // the same ack twice: only the first counts
        { kind: "release", jobId: e.id, token: e.token },
      ]);
      expect(results.map((r) => (r.ok ? r.value : "error"))).toEqual([
        true,
        false,
        "error",
        { state: "error", attempts: 1 },
        false,
        true,
      ]);
      expect((results[2] as { error: unknown }).error).toBeInstanceOf(Error);
      expect(await snapshot(c.id)).toEqual(beforeC);
      expect((await snapshot(a.id)).outcomes).toHaveLength(1);
      expect((await snapshot(b.id)).job).toMatchObject({ state: "in_progress", leaseOwner: "w" });
      expect((await snapshot(d.id)).job.state).toBe("error");
      expect((await snapshot(e.id)).job.state).toBe("queued");
      // The undone job's lease is intact: its holder can still finish it.
      expect(await q.ack(c.id, c.token, ok)).toBe(true);
      expect(await q.ack(b.id, b.token, ok)).toBe(true);
    });

    test("commitMany applies items in the given order: outcomes are numbered in that order", async () => {
      await q.enqueue([1, 2, 3, 4, 5, 6].map((n) => art(n)));
      const jobs = await q.lease("w", 6);
      const order = [...jobs].reverse();
      await q.commitMany(
        order.map((j) => ({
          kind: "ack",
          jobId: j.id,
          token: j.token,
          outcome: { state: "done", reason: "ok" },
        })),
      );
      const seqs = await Promise.all(order.map(async (j) => must((await snapshot(j.id)).outcomes[0]).seq));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(6);
    });

    test("batcher: concurrent acks share transactions; every caller learns its own result", async () => {
      await q.enqueue(Array.from({ length: 10 }, (_, i) => art(i)));
      const jobs = await q.lease("w", 10);
      const sizes: number[] = [];
      const batcher = new CommitBatcher(
        {
          commitMany: (c: readonly JobCommit[]) => {
            sizes.push(c.length);
            return q.commitMany(c);
          },
        },
        { maxBatch: 4 },
      );
      const ok = { state: "done", reason: "ok" } as const;
      const results = await Promise.all(
        jobs.map((j, i) => batcher.ack(j.id, i === 5 ? "stale" : j.token, ok)),
      );
      expect(results).toEqual(jobs.map((_, i) => i !== 5));
      // Full batches go at once, the rest at the end of the turn; nobody waits behind a later arrival.
      expect(sizes).toEqual([4, 4, 2]);
      const seqs = await Promise.all(
        jobs.filter((_, i) => i !== 5).map(async (j) => must((await snapshot(j.id)).outcomes[0]).seq),
      );
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect((await snapshot(must(jobs[5]).id)).job.state).toBe("in_progress");
      await batcher.close();
    });

    test("batcher: acks arriving while a batch is being written gather into the next one", async () => {
      await q.enqueue([1, 2, 3, 4, 5].map((n) => art(n)));
      const jobs = await q.lease("w", 5);
      // The real queue behind a commit that takes as long as the test says (a slow, asynchronous store).
      let open = () => {};
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const sizes: number[] = [];
      const batcher = new CommitBatcher({
        async commitMany(c: readonly JobCommit[]) {
          sizes.push(c.length);
          if (sizes.length === 1) await gate;
          return q.commitMany(c);
        },
      });
      const ok = { state: "done", reason: "ok" } as const;
      const first = batcher.ack(must(jobs[0]).id, must(jobs[0]).token, ok);
      const turn = () => new Promise((r) => setImmediate(r));
      await turn();
      expect(sizes).toEqual([1]);
      const rest: Promise<boolean>[] = [];
      for (const j of jobs.slice(1)) {
        rest.push(batcher.ack(j.id, j.token, ok));
        await turn(); // each in its own turn of the event loop
      }
      expect(sizes).toEqual([1]);
      expect(batcher.waiting).toBe(4);
      open();
      expect(await first).toBe(true);
      expect(await Promise.all(rest)).toEqual([true, true, true, true]);
      expect(sizes).toEqual([1, 4]);
      await batcher.close();
    });

    test("batcher: fail and release through the batch behave like the single calls", async () => {
      await q.enqueue([art(1), art(2), art(3)]);
      const [a, b, c] = (await q.lease("w", 3)).map(must) as [LeasedJob, LeasedJob, LeasedJob];
      const batcher = new CommitBatcher(q);
      const [fa, rb, fc] = await Promise.all([
        batcher.fail(a.id, a.token, { reason: "timeout", transient: true }, { next: 1 }),
        batcher.release(b.id, b.token, T0 + 7_000, { attempts: [{ reason: "host_cooldown" }] }),
        batcher.fail(c.id, c.token, { reason: "not_found", transient: false }),
      ]);
      expect(fa).toEqual({ state: "queued", availableAt: T0 + 500, attempts: 1 });
      expect(rb).toBe(true);
      expect(fc).toEqual({ state: "error", attempts: 1 });
      expect((await snapshot(a.id)).job.progress).toEqual({ next: 1 });
      expect((await snapshot(b.id)).job).toMatchObject({ state: "queued", availableAt: T0 + 7_000 });
      expect(await batcher.fail(a.id, a.token, { reason: "timeout", transient: true })).toBe(false);
      await batcher.close();
    });

    test("batcher: a throwing commit rejects its own caller only", async () => {
      await q.enqueue([art(1), art(2)]);
      const [a, b] = (await q.lease("w", 2)).map(must) as [LeasedJob, LeasedJob];
      const batcher = new CommitBatcher(q);
      const bad = batcher.ack(a.id, a.token, {
        state: "done",
        reason: "ok",
        attempts: [{ url: new URL("https://example.org/") as unknown as string }],
      });
      const good = batcher.ack(b.id, b.token, { state: "done", reason: "ok" });
      const [badResult, goodResult] = await Promise.allSettled([bad, good]);
      expect(goodResult).toEqual({ status: "fulfilled", value: true });
      expect(badResult?.status).toBe("rejected");
      expect((badResult as PromiseRejectedResult).reason).toBeInstanceOf(Error);
      expect((await snapshot(a.id)).job.state).toBe("in_progress");
      await batcher.close();
    });

    test("batcher: latency is bounded — a full batch goes at once, flush and close send the rest", async () => {
      await q.enqueue([1, 2, 3, 4].map((n) => art(n)));
      const jobs = (await q.lease("w", 4)).map(must);
      // A delay far longer than the test: only a full batch or an explicit flush can resolve these.
      const batcher = new CommitBatcher(q, { maxBatch: 2, maxDelayMs: 3_600_000 });
      const ok = { state: "done", reason: "ok" } as const;
      const full = [
        batcher.ack(must(jobs[0]).id, must(jobs[0]).token, ok),
        batcher.ack(must(jobs[1]).id, must(jobs[1]).token, ok),
      ];
      expect(await Promise.all(full)).toEqual([true, true]);
      const lone = batcher.ack(must(jobs[2]).id, must(jobs[2]).token, ok);
      expect(batcher.waiting).toBe(1);
      await batcher.flush();
      expect(await lone).toBe(true);
      const last = batcher.ack(must(jobs[3]).id, must(jobs[3]).token, ok);
      await batcher.close();
      expect(await last).toBe(true);
      expect((await q.stats()).counts.done).toBe(4);
      await expect(batcher.ack(must(jobs[3]).id, must(jobs[3]).token, ok)).rejects.toBeInstanceOf(
        CommitBatcherClosedError,
      );
      expect(() => new CommitBatcher(q, { maxBatch: 0 })).toThrow(/maxBatch/);
    });
  });
}
