import { describe, expect, test } from "bun:test";
import {
  type BreakerSettings,
  type BreakerState,
  breakerAdmit,
  breakerRecord,
  breakerReleaseTrial,
  CLOSED,
  failureCause,
  type Verdict,
  verdictOf,
} from "../../src/politeness/breaker.ts";

const cfg: BreakerSettings = { failureThreshold: 3, resetMs: 60_000, trialTtlMs: 30_000 };

function record(s: BreakerState, verdicts: Verdict[], now: number): BreakerState {
  return verdicts.reduce((st, v) => breakerRecord(st, v, now, cfg), s);
}

describe("verdictOf", () => {
  test("5xx without Retry-After and network failures are failures", () => {
    for (const status of [500, 502, 503, 504, 599]) expect(verdictOf({ status })).toBe("failure");
    for (const failure of ["timeout", "conn_error", "tls_error"] as const)
      expect(verdictOf({ failure })).toBe("failure");
    expect(failureCause({ status: 502 })).toBe("http_502");
    expect(failureCause({ failure: "timeout" })).toBe("timeout");
    expect(failureCause({ status: 404 })).toBeNull();
  });
  test("back-pressure is not failure: a 503 or 429 that says when to come back is neutral", () => {
    expect(verdictOf({ status: 503, retryAfterMs: 1000 })).toBe("neutral");
    expect(verdictOf({ status: 500, retryAfterMs: 1000 })).toBe("neutral");
    expect(verdictOf({ status: 429, retryAfterMs: 1000 })).toBe("neutral");
  });
  test("404, 403 and other 4xx prove the host is up; 429 says nothing about health", () => {
    for (const status of [200, 204, 301, 304, 400, 401, 403, 404, 410, 451])
      expect(verdictOf({ status })).toBe("success");
    expect(verdictOf({ status: 429 })).toBe("neutral");
    expect(verdictOf({})).toBe("neutral");
  });
});

describe("circuit breaker", () => {
  test("full cycle: closed → open → half-open with one trial → closed", () => {
    let t = 1_000_000;
    let s = record(CLOSED, ["failure", "failure"], t);
    expect(s).toMatchObject({ phase: "closed", failures: 2 });
    expect(breakerAdmit(s, t, cfg).admit).toBe(true);

    s = breakerRecord(s, "failure", t, cfg);
    expect(s).toEqual({ phase: "open", failures: 3, openUntil: t + 60_000, trialUntil: 0 });
    expect(breakerAdmit(s, t, cfg)).toMatchObject({ admit: false, retryAt: t + 60_000 });

    t += 59_999;
    expect(breakerAdmit(s, t, cfg).admit).toBe(false);

    t += 1;
    const trial = breakerAdmit(s, t, cfg);
    expect(trial).toMatchObject({ admit: true, trial: true });
    s = trial.state;
    expect(s).toMatchObject({ phase: "half_open", trialUntil: t + 30_000 });

    // exactly one trial: everybody else is refused until its answer
    const second = breakerAdmit(s, t + 10, cfg);
    expect(second).toMatchObject({ admit: false, retryAt: t + 30_000 });

    s = breakerRecord(s, "success", t + 500, cfg);
    expect(s).toEqual(CLOSED);
    expect(breakerAdmit(s, t + 501, cfg)).toMatchObject({ admit: true, trial: false });
  });

  test("a failed trial opens the breaker again for a full reset time", () => {
    const t = 5_000_000;
    let s = record(CLOSED, ["failure", "failure", "failure"], t);
    const a = breakerAdmit(s, t + 60_000, cfg);
    s = a.state;
    s = breakerRecord(s, "failure", t + 60_100, cfg);
    expect(s).toMatchObject({ phase: "open", openUntil: t + 120_100, trialUntil: 0 });
    expect(breakerAdmit(s, t + 120_099, cfg).admit).toBe(false);
    expect(breakerAdmit(s, t + 120_100, cfg)).toMatchObject({ admit: true, trial: true });
  });

  test("only consecutive failures count: a success (even a 404) resets them", () => {
    const s = record(CLOSED, ["failure", "failure", verdictOf({ status: 404 }), "failure", "failure"], 0);
    expect(s).toMatchObject({ phase: "closed", failures: 2 });
  });

  test("429s neither open nor close the breaker", () => {
    const s = record(CLOSED, ["failure", "neutral", "neutral", "failure"], 0);
    expect(s).toMatchObject({ phase: "closed", failures: 2 });
  });

  test("answers arriving while open (requests sent before) change nothing", () => {
    const open = record(CLOSED, ["failure", "failure", "failure"], 0);
    expect(breakerRecord(open, "success", 10, cfg)).toBe(open);
    expect(breakerRecord(open, "failure", 10, cfg)).toBe(open);
  });

  test("a trial that never answers expires and the next request becomes the trial", () => {
    const open = record(CLOSED, ["failure", "failure", "failure"], 0);
    const first = breakerAdmit(open, 60_000, cfg);
    expect(first.admit).toBe(true);
    expect(breakerAdmit(first.state, 89_999, cfg).admit).toBe(false);
    expect(breakerAdmit(first.state, 90_000, cfg)).toMatchObject({ admit: true, trial: true });
  });

  test("a released or neutral trial lets the next request try at once", () => {
    const open = record(CLOSED, ["failure", "failure", "failure"], 0);
    const { state } = breakerAdmit(open, 60_000, cfg);
    expect(breakerAdmit(breakerReleaseTrial(state), 60_001, cfg)).toMatchObject({ admit: true, trial: true });
    const neutral = breakerRecord(state, "neutral", 60_001, cfg);
    expect(neutral).toMatchObject({ phase: "half_open", trialUntil: 0 });
    expect(breakerReleaseTrial(CLOSED)).toBe(CLOSED);
  });
});
