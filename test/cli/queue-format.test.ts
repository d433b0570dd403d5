import { expect, test } from "bun:test";
import {
  duration,
  importSummaryLine,
  jobDetailText,
  jobsTable,
  statsText,
} from "../../src/cli/queue-format.ts";
import type { AttemptRow, JobRow, QueueStats } from "../../src/store/types.ts";

test("durations read like a person would say them", () => {
  expect(duration(0)).toBe("0s");
  expect(duration(59_999)).toBe("59s");
  expect(duration(75_000)).toBe("1m 15s");
  expect(duration(3_600_000 + 120_000)).toBe("1h 2m");
  expect(duration(90_061_000)).toBe("1d 1h");
  expect(duration(-5)).toBe("0s");
});

test("the import summary line", () => {
  expect(
    importSummaryLine({
      lines: 9,
      added: 12345,
      duplicate: 2,
      invalid: 0,
      rejectsPath: null,
      readError: null,
    }),
  ).toBe("12,345 new, 2 duplicate, 0 invalid");
});

const stats: QueueStats = {
  counts: { queued: 1200, in_progress: 3, done: 1_000_000, skipped: 4, error: 5 },
  total: 1_001_212,
  ready: 1000,
  delayed: 200,
  expired: 1,
  oldestReadyAgeMs: 75_000,
  nextAvailableAt: Date.parse("2030-01-01T00:00:00Z"),
  throughput: { lastMinute: 120, last15MinutesPerMinute: 98.4 },
  paused: true,
};

test("stats: aligned counts with ready/delayed, age, throughput and the pause flag", () => {
  const text = statsText(stats);
  expect(text).toContain("queued          1,200  (ready 1,000, delayed 200)");
  expect(text).toContain("in_progress         3  (1 with an expired lease)");
  expect(text).toContain("done        1,000,000\n");
  expect(text).toContain("oldest ready  1m 15s");
  expect(text).toContain("next delayed  2030-01-01T00:00:00Z");
  expect(text).toContain("120/min last minute, 98.4/min over 15 min");
  expect(text).toContain("paused        yes");
  for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
});

function job(id: number, artifactId: string): JobRow {
  return {
    id,
    artifactId,
    artifact: { id: artifactId },
    state: "error",
    priority: 0,
    attempts: 5,
    maxAttempts: null,
    availableAt: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    firstAttemptAt: null,
    lastReason: "not_found",
    lastError: "404 from https://example.org/x",
    progress: null,
    createdAt: 0,
    updatedAt: Date.parse("2026-01-02T03:04:05Z"),
  };
}

test("the jobs table fits the terminal width, shortening long artifact ids", () => {
  const long = `url:https://example.org/${"x".repeat(200)}`;
  const text = jobsTable([job(7, "doi:10.1/a"), job(12345, long)], 80);
  const lines = text.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^\s*id\s+state\s+tries\s+reason\s+updated\s+artifact$/);
  expect(lines[1]).toMatch(/^\s+7\s+error\s+5\s+not_found\s+2026-01-02T03:04:05Z\s+doi:10\.1\/a$/);
  for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  expect(lines[2]?.endsWith("…")).toBe(true);
});

test("job detail lists attempts and outcomes", () => {
  const text = jobDetailText({
    job: job(7, "doi:10.1/a"),
    attempts: [
      {
        id: 1,
        jobId: 7,
        resolver: "direct",
        tier: 1,
        url: "https://example.org/a.pdf",
        host: "example.org",
        httpStatus: 404,
        reason: "not_found",
        bytes: null,
        elapsedMs: 12,
        rateWaitMs: 0,
        at: 0,
        // A cast: attempt rows may grow fields (e.g. the request role) this output does not show.
      } as AttemptRow,
    ],
    outcomes: [
      {
        seq: 3,
        jobId: 7,
        artifactId: "doi:10.1/a",
        state: "error",
        reason: "not_found",
        message: null,
        resolver: "direct",
        tier: 1,
        url: "https://example.org/a.pdf",
        finalUrl: null,
        sha256: null,
        bytes: null,
        contentType: null,
        path: null,
        etag: null,
        lastModified: null,
        license: null,
        licenseUrl: null,
        version: null,
        hostType: null,
        oaStatus: null,
        firstAttemptAt: 0,
        finishedAt: 0,
        attempts: 5,
      },
    ],
  });
  expect(text).toContain("job 7  doi:10.1/a");
  expect(text).toContain("state        error (not_found)");
  expect(text).toContain("direct tier 1  404 not_found  https://example.org/a.pdf");
  expect(text).toContain("#3 error not_found at 1970-01-01T00:00:00Z after 5 attempt(s)");
});
