// `docstokg report` through the built binary on the fixture state directory: text and JSON output,
// --check naming each violated objective with exit 1, --verify finding damage, exit codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { runBinary } from "../support/binary.ts";
import { tempDir } from "../support/temp.ts";
import { buildReportFixture, type ReportFixture } from "../telemetry/report-fixture.ts";

let root: string;
let fx: ReportFixture;
let flags: string[];
beforeAll(() => {
  root = tempDir("cli-report");
  fx = buildReportFixture(root);
  fx.db.close();
  flags = ["--state-dir", fx.stateDir, "--out", fx.outDir];
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("docstokg report", () => {
  test("prints the table and exits 0 without --check", async () => {
    const r = await runBinary(["report", ...flags]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^jobs 11: done 5/m);
    expect(r.stdout).toContain("FAIL 429_ratio");
  }, 60_000);

  test("--json is version 1 with the documented sections", async () => {
    const r = await runBinary(["report", "--json", ...flags]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.version).toBe(1);
    expect(Object.keys(j)).toEqual([
      "version",
      "generated_at",
      "jobs",
      "yield",
      "hosts",
      "rate_wait_ms",
      "held_back_ms",
      "time_to_first_pdf_ms",
      "bytes",
      "verify",
      "sources",
      "objectives",
      "ok",
    ]);
    // Unpaywall has a daily limit by default, so it is listed even before it was asked today.
    expect(j.sources).toContainEqual(expect.objectContaining({ source: "unpaywall", daily_limit: 100000 }));
    expect(j.time_to_first_pdf_ms).toEqual({ count: 4, p50: 2000, p95: 5000 });
    expect(j.verify).toBeNull();
  }, 60_000);

  test("--check exits 1 naming each violated objective", async () => {
    const r = await runBinary(["report", "--check", ...flags]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("objectives violated: 429_ratio (over 2 %: a.example 5 % (1/20))");
    expect(r.stderr).toContain(
      "metadata_rate_wait_p95 (metadata wait in host cool-downs (beyond pacing) p95 300 ms (allowed 250 ms))",
    );
    expect(r.stderr).not.toContain("corruption");
  }, 60_000);

  test("--check with objectives met (from the environment) exits 0", async () => {
    const r = await runBinary(["report", "--check", ...flags], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        DOCSTOKG_TELEMETRY__OBJECTIVES__MAX_429_RATIO: "0.1",
        DOCSTOKG_TELEMETRY__OBJECTIVES__MAX_METADATA_RATE_WAIT_P95_MS: "500",
      },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);

  test("--verify --check: a flipped byte fails the corruption objective", async () => {
    const b = readFileSync(fx.files.B.path);
    b[10] = (b[10] ?? 0) ^ 0xff;
    writeFileSync(fx.files.B.path, b);
    try {
      const r = await runBinary(["report", "--verify", "--check", "--json", ...flags], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          DOCSTOKG_TELEMETRY__OBJECTIVES__MAX_429_RATIO: "0.1",
          DOCSTOKG_TELEMETRY__OBJECTIVES__MAX_METADATA_RATE_WAIT_P95_MS: "500",
        },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("objective violated: corruption (2 stored file(s) missing or not matching");
      // Not a terminal: the progress is logged as JSON records, ending with the tally.
      expect(r.stderr).toContain('"msg":"verified stored files","checked":9,"ok":7,"missing":0,"corrupt":2');
      const j = JSON.parse(r.stdout);
      expect(j.verify).toMatchObject({ files: 9, ok: 7, corrupt: 2, missing: 0 });
    } finally {
      b[10] = (b[10] ?? 0) ^ 0xff;
      writeFileSync(fx.files.B.path, b);
    }
  }, 60_000);

  test("a state directory without a database is a runtime failure naming it, and creates nothing", async () => {
    const empty = tempDir("cli-report-empty");
    try {
      const r = await runBinary(["report", "--state-dir", `${empty}/state`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`no queue database in ${empty}/state`);
      expect(() => readFileSync(`${empty}/state/queue.db`)).toThrow();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);
});
