import { describe, expect, test } from "bun:test";
import { decideCommit } from "../../src/runner/decide.ts";
import { drainVerdict } from "../../src/runner/drain.ts";
import type { StepFailed, StepObtained } from "../../src/runner/step.ts";
import type { QueueStats } from "../../src/store/types.ts";

const obtained: StepObtained = {
  ok: true,
  reason: "ok",
  detail: { sha256: "ab", path: "pdf/ab/ab.pdf", bytes: 10 },
  attempts: [{ url: "http://a/x.pdf", reason: "ok" }],
};
const failed = (o: Partial<StepFailed>): StepFailed => ({
  ok: false,
  reason: "not_found",
  transient: false,
  message: "gone",
  deferred: false,
  attempts: [],
  ...o,
});

describe("decideCommit", () => {
  test("a file obtained is acked done with its detail and attempts", () => {
    const c = decideCommit(obtained, undefined);
    expect(c).toEqual({
      kind: "ack",
      outcome: {
        state: "done",
        reason: "ok",
        ...obtained.detail,
        message: null,
        attempts: obtained.attempts,
      },
    });
  });

  test("a lost lease writes nothing, whatever the step got", () => {
    expect(decideCommit(obtained, "lease_lost")).toEqual({ kind: "abandon" });
    expect(decideCommit(failed({}), "lease_lost")).toEqual({ kind: "abandon" });
  });

  test("shutdown: finished work is still committed, cut-short work is released with its progress", () => {
    expect(decideCommit(obtained, "shutdown").kind).toBe("ack");
    const c = decideCommit(failed({ reason: "cancelled", transient: true, progress: { p: 1 } }), "shutdown");
    expect(c).toEqual({ kind: "release", attempts: [], progress: { p: 1 } });
  });

  test("robots and URL policy refusals are skipped, not errors", () => {
    for (const reason of ["robots_disallowed", "url_refused"] as const) {
      const c = decideCommit(failed({ reason }), undefined);
      expect(c.kind === "ack" && c.outcome).toMatchObject({ state: "skipped", reason, message: "gone" });
    }
  });

  test("a politeness deferral is released until retryAt; without retryAt it fails like any transient error", () => {
    expect(
      decideCommit(
        failed({ reason: "rate_limited", transient: true, deferred: true, retryAt: 5 }),
        undefined,
      ),
    ).toEqual({
      kind: "release",
      until: 5,
      attempts: [],
      progress: undefined,
    });
    expect(
      decideCommit(failed({ reason: "rate_limited", transient: true, deferred: true }), undefined).kind,
    ).toBe("fail");
  });

  test("an origin's 429 (not deferred) counts an attempt and carries Retry-After", () => {
    const c = decideCommit(failed({ reason: "rate_limited", transient: true, retryAt: 99 }), undefined);
    expect(c).toMatchObject({ kind: "fail", failure: { transient: true, retryAt: 99 } });
  });

  test("permanent failures end the job; their retryAt is ignored", () => {
    const c = decideCommit(failed({ reason: "not_found", retryAt: 7 }), undefined);
    expect(c).toMatchObject({ kind: "fail", failure: { transient: false, reason: "not_found" } });
    expect(c.kind === "fail" ? c.failure.retryAt : "not a fail").toBeUndefined();
  });
});

const stats = (o: Partial<QueueStats>): QueueStats => ({
  counts: { queued: 0, in_progress: 0, done: 0, skipped: 0, error: 0 },
  total: 0,
  ready: 0,
  delayed: 0,
  expired: 0,
  oldestReadyAgeMs: null,
  nextAvailableAt: null,
  throughput: { lastMinute: 0, last15MinutesPerMinute: 0 },
  paused: false,
  ...o,
});

describe("drainVerdict", () => {
  const o = { maxDelayMs: 10_000, pollMs: 500 };
  test("exits on an empty or finished queue", () => {
    expect(drainVerdict(stats({}), 0, o)).toEqual({ kind: "exit", delayed: 0, nextAvailableAt: null });
  });
  test("waits while jobs are ready (also when paused) or expired leases wait to be taken over", () => {
    expect(drainVerdict(stats({ ready: 1 }), 0, o)).toMatchObject({ kind: "wait", why: "ready" });
    expect(drainVerdict(stats({ ready: 1, paused: true }), 0, o)).toMatchObject({
      kind: "wait",
      why: "paused",
    });
    expect(drainVerdict(stats({ expired: 1 }), 0, o)).toMatchObject({ kind: "wait" });
  });
  test("waits while another runner holds jobs (they may come back for a retry)", () => {
    const s = stats({ counts: { queued: 0, in_progress: 2, done: 0, skipped: 0, error: 0 } });
    expect(drainVerdict(s, 0, o)).toMatchObject({ kind: "wait", why: "in_flight" });
  });
  test("waits for a delayed job due within the bound, no longer than until it is due", () => {
    expect(drainVerdict(stats({ delayed: 1, nextAvailableAt: 1_200 }), 1_000, o)).toEqual({
      kind: "wait",
      ms: 200,
      why: "delayed",
    });
    expect(drainVerdict(stats({ delayed: 1, nextAvailableAt: 11_000 }), 1_000, o)).toMatchObject({
      kind: "wait",
      ms: 500,
    });
  });
  test("exits leaving delayed jobs due beyond the bound", () => {
    expect(drainVerdict(stats({ delayed: 3, nextAvailableAt: 11_001 }), 1_000, o)).toEqual({
      kind: "exit",
      delayed: 3,
      nextAvailableAt: 11_001,
    });
  });
});
