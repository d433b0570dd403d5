// Retry-After parsing (both forms, capped) and full-jitter backoff bounds; the reason mapping.
import { describe, expect, test } from "bun:test";
import type { Reason } from "../../src/core/reasons.ts";
import { HttpFailure, isRetryable, outcomeReason } from "../../src/net/outcome.ts";
import { backoffMs, parseRetryAfter } from "../../src/net/retry.ts";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  const cap = 900_000;
  const cases: [string | null, number | undefined][] = [
    [null, undefined],
    ["", undefined],
    // Zero or a past date says "now": treated as absent, so the host backoff applies.
    ["0", undefined],
    ["120", 120_000],
    [" 7 ", 7_000],
    ["86400", cap],
    ["Thu, 26 Nov 2026 12:01:30 GMT", 90_000],
    ["Thursday, 26-Nov-26 12:01:30 GMT", 90_000],
    ["Thu Nov 26 12:01:30 2026", 90_000],
    ["Thu, 26 Nov 2026 11:00:00 GMT", undefined],
    ["Thu, 26 Nov 2026 12:00:00 GMT", undefined],
    ["Fri, 27 Nov 2026 12:00:00 GMT", cap],
    ["-5", undefined],
    ["1.5", undefined],
    ["soon", undefined],
  ];
  for (const [value, want] of cases) {
    test(`${JSON.stringify(value)} → ${want}`, () => expect(parseRetryAfter(value, now, cap)).toBe(want));
  }
});

describe("backoffMs", () => {
  test("full jitter stays inside [0, min(cap, base·2^n))", () => {
    expect(backoffMs(0, 500, 30_000, () => 0)).toBe(0);
    expect(backoffMs(0, 500, 30_000, () => 0.999)).toBe(499);
    expect(backoffMs(3, 500, 30_000, () => 0.5)).toBe(2000);
    expect(backoffMs(20, 500, 30_000, () => 0.999)).toBe(29_970);
  });
  test("is spread, not fixed", () => {
    let x = 1;
    const random = () => {
      x = (x * 16807) % 2147483647;
      return x / 2147483647;
    };
    const values = new Set(Array.from({ length: 50 }, () => backoffMs(4, 500, 30_000, random)));
    expect(values.size).toBeGreaterThan(40);
  });
});

describe("outcomeReason", () => {
  const statuses: [number, Reason][] = [
    [200, "ok"],
    [206, "ok"],
    [304, "ok"],
    [404, "not_found"],
    [410, "not_found"],
    [401, "forbidden"],
    [403, "forbidden"],
    [429, "rate_limited"],
    [500, "http_500"],
    [503, "http_503"],
    [451, "http_451"],
    [302, "http_302"],
  ];
  for (const [status, reason] of statuses) {
    test(`${status} → ${reason}`, () => expect(outcomeReason({ status })).toBe(reason));
  }

  test("errors", () => {
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(outcomeReason({ error: err("ECONNRESET") })).toBe("conn_error");
    expect(outcomeReason({ error: err("ECONNREFUSED") })).toBe("conn_error");
    expect(outcomeReason({ error: err("ConnectionRefused") })).toBe("conn_error");
    expect(outcomeReason({ error: err("DEPTH_ZERO_SELF_SIGNED_CERT") })).toBe("tls_error");
    expect(outcomeReason({ error: err("ERR_TLS_CERT_ALTNAME_INVALID") })).toBe("tls_error");
    expect(outcomeReason({ error: err("UNABLE_TO_VERIFY_LEAF_SIGNATURE") })).toBe("tls_error");
    expect(outcomeReason({ error: Object.assign(new Error("t"), { name: "TimeoutError" }) })).toBe("timeout");
    expect(outcomeReason({ error: new DOMException("stop", "AbortError") })).toBe("cancelled");
    expect(outcomeReason({ error: new HttpFailure("truncated", "short") })).toBe("truncated");
  });

  test("retryable: 429/500/502/503/504 and network failures only", () => {
    for (const s of [429, 500, 502, 503, 504]) expect(isRetryable({ status: s })).toBe(true);
    for (const s of [400, 401, 403, 404, 410, 501]) expect(isRetryable({ status: s })).toBe(false);
    expect(isRetryable({ reason: "timeout" })).toBe(true);
    expect(isRetryable({ reason: "conn_error" })).toBe(true);
    expect(isRetryable({ reason: "url_refused" })).toBe(false);
    expect(isRetryable({ reason: "tls_error" })).toBe(false);
  });
});
