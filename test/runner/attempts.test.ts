// The one place attempt rows are built: candidate tries (a full disk included, without measures),
// requests that went out, and what a job's record keeps (rows in order, bytes, an origin's 429).
import { describe, expect, test } from "bun:test";
import type { DownloadFailure } from "../../src/download/types.ts";
import type { HttpClient, HttpRequest, HttpResult } from "../../src/net/types.ts";
import type { Candidate } from "../../src/resolve/types.ts";
import { attemptRecord, JobAttempts } from "../../src/runner/attempts.ts";

const candidate: Candidate = {
  url: "http://h.test/x.pdf",
  kind: "pdf",
  resolver: "direct",
  tier: 0,
  provenance: {},
};
const failure = (o: Partial<DownloadFailure>): DownloadFailure => ({
  ok: false,
  reason: "not_found",
  message: "http://h.test/x.pdf: 404",
  url: candidate.url,
  bytes: 12,
  status: 404,
  timings: { rateWaitMs: 3.4, headersMs: 5, bodyMs: 1, totalMs: 7.6 },
  ...o,
});

describe("attemptRecord", () => {
  test("a measured try records status, bytes and times, its tier 1-based", () => {
    expect(attemptRecord(candidate, failure({}), 99)).toEqual({
      resolver: "direct",
      tier: 1,
      url: candidate.url,
      host: "h.test",
      httpStatus: 404,
      reason: "not_found",
      bytes: 12,
      elapsedMs: 8,
      rateWaitMs: 3,
      at: 99,
    });
  });

  test("a full disk records the try and its reason, no measures", () => {
    const full = failure({ reason: "disk_full", status: undefined, bytes: 0, timings: undefined });
    expect(attemptRecord(candidate, full, 5)).toEqual({
      resolver: "direct",
      tier: 1,
      url: candidate.url,
      host: "h.test",
      reason: "disk_full",
      at: 5,
    });
  });
});

describe("JobAttempts", () => {
  const answers: Record<string, HttpResult> = {
    "http://api.test/a": {
      ok: false,
      reason: "rate_limited",
      message: "429",
      url: "http://api.test/a",
      status: 429,
    },
    "http://api.test/b": {
      ok: false,
      reason: "rate_limited",
      message: "would wait",
      url: "http://api.test/b",
    },
  };
  const http: HttpClient = { request: async (req: HttpRequest) => answers[req.url] as HttpResult };

  test("requests that went out and candidate tries are rows in order; refusals are none", async () => {
    const record = new JobAttempts(() => 1);
    const client = record.client(http);
    await client.request({ url: "http://api.test/a", role: "metadata", resolver: "crossref" });
    await client.request({ url: "http://api.test/b", role: "metadata", resolver: "crossref" });
    record.tried(candidate, failure({}));
    record.tried(candidate, failure({ reason: "rate_limited", status: undefined, bytes: 0 }));
    expect(record.rows.map((r) => [r.role ?? "artifact", r.reason])).toEqual([
      ["metadata", "rate_limited"],
      ["artifact", "not_found"],
    ]);
    expect(record.served429).toBe(true);
    expect(record.bytes).toBe(12);
  });
});
