// What the runner records for metadata and landing requests, so the report can state their rate
// waits and 429s: one attempt row per request that went out, none for a cache hit or a limiter refusal,
// never the URL (API URLs carry contact addresses and keys).
import { describe, expect, test } from "bun:test";
import type { HttpResponse, HttpResult } from "../../src/net/types.ts";
import { requestAttempt } from "../../src/runner/attempts.ts";

const response = (o: Partial<HttpResponse> = {}): HttpResult => ({
  ok: true,
  response: {
    status: 200,
    headers: new Headers(),
    url: "https://api.unpaywall.org/v2/10.1/x?email=me@example.org",
    redirects: [],
    body: null,
    rateWaitMs: 12.6,
    release() {},
    ...o,
  },
});
const req = {
  url: "https://api.unpaywall.org/v2/10.1/x?email=me@example.org",
  role: "metadata" as const,
  resolver: "unpaywall",
};

describe("requestAttempt", () => {
  test("a request that went out: role, resolver, host, status, rounded wait; no URL", () => {
    expect(requestAttempt(req, response(), 1000)).toEqual({
      role: "metadata",
      resolver: "unpaywall",
      host: "api.unpaywall.org",
      httpStatus: 200,
      reason: null,
      rateWaitMs: 13,
      heldBackMs: 0,
      at: 1000,
    });
  });

  test("a 429 answer is recorded with its status and reason", () => {
    const r: HttpResult = { ok: false, reason: "rate_limited", message: "429", status: 429, url: req.url };
    expect(requestAttempt(req, r, 5)).toMatchObject({
      httpStatus: 429,
      reason: "rate_limited",
      rateWaitMs: null,
    });
  });

  test("a network failure is a request; a fresh cache hit and a limiter refusal are not", () => {
    const timeout: HttpResult = { ok: false, reason: "timeout", message: "t", url: req.url };
    expect(requestAttempt(req, timeout, 5)).toMatchObject({ httpStatus: null, reason: "timeout" });
    expect(requestAttempt(req, response({ fromCache: true, rateWaitMs: 0 }), 5)).toBeNull();
    for (const reason of ["rate_limited", "breaker_open", "cancelled"] as const) {
      expect(requestAttempt(req, { ok: false, reason, message: "refused", url: req.url }, 5)).toBeNull();
    }
  });

  test("landing requests keep their role", () => {
    const landing = { url: "https://doi.org/10.1/x", role: "landing" as const, resolver: "doi" };
    expect(requestAttempt(landing, response(), 1)).toMatchObject({ role: "landing", host: "doi.org" });
  });
});
