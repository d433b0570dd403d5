// The report's figures on the fixture state directory, each compared with a value worked out by hand
// from the rows in report-fixture.ts; --verify against a flipped byte and a missing file.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { defaultConfig } from "../../src/config/schema.ts";
import { buildReport, HOST_WAITS } from "../../src/telemetry/report.ts";
import { reportText } from "../../src/telemetry/report-text.ts";
import { DIGESTS, verifyLibrary, verifyProgressText } from "../../src/telemetry/verify.ts";
import { tempDir } from "../support/temp.ts";
import { buildReportFixture, type ReportFixture } from "./report-fixture.ts";

const objectives = defaultConfig().telemetry.objectives;
const NOW = Date.UTC(2026, 0, 11);
let root: string;
let fx: ReportFixture;

beforeEach(() => {
  root = tempDir("report");
  fx = buildReportFixture(root);
});
afterEach(() => {
  fx.db.close();
  rmSync(root, { recursive: true, force: true });
});

describe("report figures", () => {
  test("jobs by state and terminal reasons", () => {
    const r = buildReport(fx.db, { objectives, now: () => NOW });
    expect(r.version).toBe(1);
    expect(r.generated_at).toBe("2026-01-11T00:00:00.000Z");
    expect(r.jobs.total).toBe(11);
    expect(r.jobs.by_state).toEqual({ queued: 1, in_progress: 1, done: 5, skipped: 1, error: 3 });
    expect(r.jobs.by_reason).toEqual([
      { state: "done", reason: "ok", count: 4 },
      { state: "done", reason: "duplicate_content", count: 1 },
      { state: "skipped", reason: "robots_disallowed", count: 1 },
      { state: "error", reason: "not_found", count: 2 },
      { state: "error", reason: "timeout", count: 1 },
    ]);
  });

  test("yield per resolver and tier counts each done job once, by its latest outcome", () => {
    const y = buildReport(fx.db, { objectives, now: () => NOW }).yield;
    // 5 done of 9 finished (done 5 + skipped 1 + error 3).
    expect(y.finished).toBe(9);
    expect(y.obtained).toBe(5);
    expect(y.ratio).toBeCloseTo(5 / 9, 12);
    // Most obtained first, then most tries. Tries are candidate downloads only (not metadata or
    // landing-page requests): direct 12 and unpaywall 8 on a.example, landing 3 on c.example.
    expect(y.by_resolver).toEqual([
      { resolver: "direct", attempts: 12, obtained: 2, share: 0.4 },
      { resolver: "unpaywall", attempts: 8, obtained: 2, share: 0.4 },
      { resolver: "landing", attempts: 3, obtained: 1, share: 0.2 },
    ]);
    expect(y.by_tier).toEqual([
      { tier: 1, obtained: 2, share: 0.4 },
      { tier: 2, obtained: 2, share: 0.4 },
      { tier: 3, obtained: 1, share: 0.2 },
    ]);
  });

  test("per-host requests, 429 ratio, rate-wait percentiles and breaker openings", () => {
    const hosts = buildReport(fx.db, { objectives, now: () => NOW }).hosts;
    expect(hosts.map((h) => h.host)).toEqual(["a.example", "b.example", "c.example", "d.example"]);
    const [a, b, c, d] = hosts;
    // a: 20 requests, one 429 → 5 %; waits 1..20 ms: p50 = 10th value, p95 = ceil(19) = 19th value.
    expect(a).toEqual({
      host: "a.example",
      requests: 20,
      responses_429: 1,
      ratio_429: 0.05,
      rate_wait_ms: { count: 20, p50: 10, p95: 19 },
      breaker: null,
      breaker_openings: 0,
      breaker_reason: null,
    });
    // b: 50 metadata requests, 45 waits of 0 then 5 of 300: p50 = 25th (0), p95 = ceil(47.5) = 48th (300).
    expect(b?.requests).toBe(50);
    expect(b?.ratio_429).toBe(0);
    expect(b?.rate_wait_ms).toEqual({ count: 50, p50: 0, p95: 300 });
    // c: the breaker refusal never went out, the timeout did: 2 requests; opened twice, open now.
    expect(c?.requests).toBe(2);
    expect(c?.breaker).toBe("open");
    expect(c?.breaker_openings).toBe(2);
    expect(c?.breaker_reason).toBe("timeout");
    expect(d).toMatchObject({ requests: 2, responses_429: 0, rate_wait_ms: { count: 2, p50: 40, p95: 80 } });
  });

  test("rate wait per role; attempts without a role count as artifact downloads", () => {
    const w = buildReport(fx.db, { objectives, now: () => NOW }).rate_wait_ms;
    expect(w.metadata).toEqual({ count: 50, p50: 0, p95: 300 });
    expect(w.landing).toEqual({ count: 2, p50: 40, p95: 80 });
    // a.example's 1..20 and c.example's three 0s: 23 values; p50 = 12th (9), p95 = ceil(21.85) = 22nd (19).
    expect(w.artifact).toEqual({ count: 23, p50: 9, p95: 19 });
  });

  test("time to first PDF: first done PDF outcome per job, XML excluded", () => {
    // 1000, 2000 (job 5's first outcome, not its later 9000), 3000, 5000: p50 = 2nd, p95 = ceil(3.8) = 4th.
    const t = buildReport(fx.db, { objectives, now: () => NOW }).time_to_first_pdf_ms;
    expect(t).toEqual({ count: 4, p50: 2000, p95: 5000 });
  });

  test("bytes stored and saved by deduplication", () => {
    // Done jobs point at A 1000 (jobs 1 and 3), B 2000, C 500, D 4000 (job 5 once, though done twice).
    const bytes = buildReport(fx.db, { objectives, now: () => NOW }).bytes;
    expect(bytes).toEqual({ files: 4, stored: 7500, referenced: 8500, saved_by_dedup: 1000 });
  });

  test("objectives: each violated one named with its figures; corruption unmeasured without --verify", () => {
    const r = buildReport(fx.db, { objectives, now: () => NOW });
    expect(r.ok).toBe(false);
    const by = Object.fromEntries(r.objectives.map((o) => [o.name, o]));
    expect(by.corruption?.status).toBe("unmeasured");
    expect(by["429_ratio"]).toMatchObject({ status: "violated", actual: 0.05, target: 0.02 });
    expect(by["429_ratio"]?.detail).toContain("a.example 5 % (1/20)");
    expect(by["429_ratio"]?.detail).not.toContain("b.example");
    expect(by.metadata_rate_wait_p95).toMatchObject({ status: "violated", actual: 300, target: 250 });
  });

  test("looser objectives from the configuration are met", () => {
    const r = buildReport(fx.db, {
      objectives: { max_corruption: 0, max_429_ratio: 0.05, max_metadata_rate_wait_p95_ms: 300 },
      now: () => NOW,
    });
    expect(r.objectives.map((o) => o.status)).toEqual(["unmeasured", "met", "met"]);
    expect(r.ok).toBe(true);
  });

  test("an empty database reports zeros and unknowns, not errors", () => {
    for (const t of ["attempts", "outcomes", "jobs", "host_state", "host_breaker_openings"]) {
      fx.db.run(`DELETE FROM ${t}`);
    }
    const r = buildReport(fx.db, { objectives, now: () => NOW });
    expect(r.jobs.total).toBe(0);
    expect(r.yield.ratio).toBeNull();
    expect(r.time_to_first_pdf_ms).toEqual({ count: 0, p50: null, p95: null });
    expect(r.bytes).toEqual({ files: 0, stored: 0, referenced: 0, saved_by_dedup: 0 });
    expect(r.objectives.map((o) => o.status)).toEqual(["unmeasured", "unmeasured", "unmeasured"]);
    expect(reportText(r)).toContain("jobs 0:");
  });

  test("the text form is a compact table with every section", () => {
    const text = reportText(buildReport(fx.db, { objectives, now: () => NOW }));
    expect(text).toMatch(/^jobs 11: done 5, skipped 1, error 3, queued 1, in progress 1$/m);
    expect(text).toMatch(/^yield 55\.6% \(5 of 9 finished\)$/m);
    expect(text).toMatch(/^ {2}a\.example +20 +1 +5\.0% +10 ms +19 ms +– +0$/m);
    expect(text).toMatch(/^ {2}c\.example +2 +0 +0\.0% +0 ms +0 ms +open +2 +timeout$/m);
    expect(text).toMatch(/time to first PDF {2}p50 2\.0 s {2}p95 5\.0 s {2}\(4 works\)/);
    expect(text).toMatch(/^ {2}FAIL 429_ratio/m);
    expect(text).toMatch(/^ {2}FAIL metadata_rate_wait_p95/m);
    expect(text).toMatch(/^ {2}-- {3}corruption/m);
  });
});

test("the per-host rate-wait walk reads an index in order, without sorting the attempts", () => {
  const plan = fx.db
    .query<{ detail: string }, []>(`EXPLAIN QUERY PLAN ${HOST_WAITS}`)
    .all()
    .map((r) => r.detail)
    .join(" | ");
  expect(plan).toContain("COVERING INDEX attempts_host_idx");
  expect(plan).not.toContain("TEMP B-TREE");
});

test("--verify pages through stored digests by index, not by scanning every outcome per page", () => {
  const plan = fx.db
    .query<{ detail: string }, []>(`EXPLAIN QUERY PLAN ${DIGESTS}`)
    .all()
    .map((r) => r.detail)
    .join(" | ");
  expect(plan).toContain("USING INDEX outcomes_sha256_idx (sha256>?)");
});

describe("report --verify", () => {
  test("an intact library: every copy and every by-id link checked, corruption objective met", async () => {
    const seen: number[] = [];
    const v = await verifyLibrary(fx.db, { outDir: fx.outDir, onProgress: (p) => seen.push(p.checked) });
    // Four content-addressed copies (A B C D) and five by-id links (jobs 1–5).
    expect(v).toMatchObject({ files: 9, ok: 9, missing: 0, corrupt: 0, problems: [] });
    expect(v.bytes).toBe(1000 + 2000 + 500 + 4000 + (1000 + 2000 + 1000 + 500 + 4000));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const r = buildReport(fx.db, { objectives, now: () => NOW, verify: v });
    expect(r.objectives[0]).toMatchObject({ name: "corruption", status: "met", actual: 0 });
  });

  test("a flipped byte and a missing file are found and violate the corruption objective", async () => {
    const b = readFileSync(fx.files.B.path);
    b[1500] = (b[1500] ?? 0) ^ 0x01;
    writeFileSync(fx.files.B.path, b); // rewritten in place: the by-id hard link of job 2 sees it too
    rmSync(fx.files.D.path); // job 5's by-id link still holds the bytes

    const v = await verifyLibrary(fx.db, { outDir: fx.outDir });
    expect(v).toMatchObject({ files: 9, ok: 6, missing: 1, corrupt: 2 });
    const problems = v.problems.map((p) => [p.problem, p.path]);
    expect(problems).toContainEqual(["corrupt", fx.files.B.path]);
    expect(problems).toContainEqual(["corrupt", fx.links["doi:10.1/two"] ?? "link of job 2"]);
    expect(problems).toContainEqual(["missing", fx.files.D.path]);
    const corrupt = v.problems.find((p) => p.path === fx.files.B.path);
    expect(corrupt?.expected).toBe(fx.files.B.sha256);
    expect(corrupt?.actual).toMatch(/^[0-9a-f]{64}$/);
    expect(corrupt?.actual).not.toBe(fx.files.B.sha256);

    const r = buildReport(fx.db, { objectives, now: () => NOW, verify: v });
    expect(r.objectives[0]).toMatchObject({ name: "corruption", status: "violated", actual: 3 });
    const text = reportText(r);
    expect(text).toContain("verified 9 files");
    expect(text).toContain(`missing ${fx.files.D.path}`);
  });

  test("more digests than one page: each checked once, problems capped", async () => {
    const insert = fx.db.query(
      `INSERT INTO outcomes (job_id, artifact_id, state, reason, sha256, bytes, content_type, finished_at, attempts)
       VALUES (1, 'doi:10.1/one', 'done', 'ok', ?, 10, 'application/pdf', 0, 1)`,
    );
    fx.db.transaction(() => {
      for (let i = 0; i < 1200; i++) insert.run(i.toString(16).padStart(64, "0"));
    })();
    const v = await verifyLibrary(fx.db, { outDir: fx.outDir });
    // 1200 missing copies plus the fixture's 4 copies and 5 links (job 1's latest outcome is now one
    // of the new rows, with no path: its link is no longer checked).
    expect(v.missing).toBe(1200);
    expect(v.files).toBe(1200 + 4 + 4);
    expect(v.problems).toHaveLength(100);
  });

  test("the progress line says files checked of planned, share and bytes", () => {
    expect(verifyProgressText({ checked: 1234, total: 5000, bytes: 1_200_000_000 })).toBe(
      "verifying 1,234/5,000 files (24.7%) · 1.2 GB",
    );
    expect(verifyProgressText({ checked: 0, total: 0, bytes: 0 })).toBe("verifying 0/0 files · 0 B");
  });

  test("a truncated file is corrupt from its size alone", async () => {
    writeFileSync(fx.files.C.path, readFileSync(fx.files.C.path).subarray(0, 100));
    const v = await verifyLibrary(fx.db, { outDir: fx.outDir, maxProblems: 1 });
    expect(v.corrupt).toBe(2); // the copy and job 4's link (same inode)
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toMatchObject({ problem: "corrupt", actual: null });
  });
});
