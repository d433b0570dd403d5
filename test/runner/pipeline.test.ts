import { describe, expect, test } from "bun:test";
import type { DownloadSuccess } from "../../src/download/types.ts";
import type { CandidateRecord, PlanProgress } from "../../src/resolve/progress.ts";
import { onlyPolitenessWaits, stepResult } from "../../src/runner/pipeline.ts";

const cand = (o: Partial<CandidateRecord>): CandidateRecord => ({
  url: "http://h/x.pdf",
  kind: "pdf",
  resolver: "direct",
  tier: 0,
  provenance: {},
  key: "http://h/x.pdf",
  state: "failed",
  depth: 0,
  ...o,
});
const progress = (
  candidates: CandidateRecord[],
  resolvers: PlanProgress["resolvers"] = {},
): PlanProgress => ({
  version: 1,
  resolvers,
  candidates,
  derived: {},
});

describe("onlyPolitenessWaits", () => {
  test("true when every transient failure was the limiter refusing to wait", () => {
    expect(
      onlyPolitenessWaits(
        progress([cand({ reason: "rate_limited", transient: true }), cand({ reason: "not_found" })], {
          crossref: { state: "unsettled", reason: "breaker_open", found: 0 },
        }),
      ),
    ).toBe(true);
  });
  test("false when anything else failed transiently, or nothing failed transiently", () => {
    expect(
      onlyPolitenessWaits(
        progress([
          cand({ reason: "rate_limited", transient: true }),
          cand({ reason: "timeout", transient: true }),
        ]),
      ),
    ).toBe(false);
    expect(onlyPolitenessWaits(progress([], { unpaywall: { state: "unsettled", found: 0 } }))).toBe(false);
    expect(onlyPolitenessWaits(progress([cand({ reason: "not_found" })]))).toBe(false);
  });
});

describe("stepResult", () => {
  const p = progress([cand({ reason: "rate_limited", transient: true })]);
  const failed = {
    ok: false as const,
    reason: "rate_limited" as const,
    transient: true,
    message: "wait",
    retryAt: 9,
    progress: p,
  };

  test("a limiter refusal is deferred; an origin's 429 in the same job is not", () => {
    expect(stepResult(failed, "/lib", [], 0, false)).toMatchObject({ ok: false, deferred: true, retryAt: 9 });
    expect(stepResult(failed, "/lib", [], 0, true)).toMatchObject({ ok: false, deferred: false });
  });

  test("a stored file is recorded with its path relative to the library and its tier 1-based", () => {
    const outcome = {
      ok: true,
      reason: "ok",
      status: 200,
      resumedFrom: 0,
      timings: { rateWaitMs: 0, headersMs: 1, bodyMs: 1, totalMs: 2 },
      file: {
        sha256: "ab".repeat(32),
        bytes: 2048,
        contentType: "application/pdf",
        kind: "pdf",
        path: `/lib/pdf/ab/${"ab".repeat(32)}.pdf`,
        byIdPath: "/lib/by-id/x.pdf",
        url: "http://h/x.pdf",
        finalUrl: "http://h/x.pdf",
      },
    } satisfies DownloadSuccess;
    const r = stepResult(
      {
        ok: true,
        outcome,
        candidate: { url: "http://h/x.pdf", kind: "pdf", resolver: "crossref", tier: 1, provenance: {} },
        progress: p,
      },
      "/lib",
      [],
      2048,
      false,
    );
    expect(r).toMatchObject({
      ok: true,
      reason: "ok",
      detail: {
        resolver: "crossref",
        tier: 2,
        path: `pdf/ab/${"ab".repeat(32)}.pdf`,
        sha256: "ab".repeat(32),
        bytes: 2048,
      },
    });
  });
});
