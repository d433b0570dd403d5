// The looking and steering commands on PostgreSQL, end to end through the built binary with
// --database-url: queue import → stats → list → show → pause/resume → (work finished through the
// store) → retry-failed → report (yield, reasons, hosts; --verify reads the outcomes' paths from the
// database) → manifest export (the fleet's outcomes) → serve /api/stats, search, summary, and its
// controls with status.token.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SQL } from "bun";
import { libraryPath } from "../../src/library/layout.ts";
import { PostgresJobQueue } from "../../src/store/postgres/queue.ts";
import { queuePolicy } from "../../src/store/sqlite-queue.ts";
import { announcedUrl } from "../support/announced-url.ts";
import { builtBinary, emptyDir, runBinary } from "../support/binary.ts";
import { startTestPostgres } from "../support/postgres.ts";

const pg = await startTestPostgres();
const dir = emptyDir("docstokg-pg-commands-");
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const WORKS = 6;

describe.skipIf(!pg)("the queue, report, manifest and serve commands on PostgreSQL", () => {
  test("every command reads and steers the shared database, not a state directory", async () => {
    if (!pg) return;
    const url = await pg.createDatabase("commands");
    const stateDir = join(dir, "state");
    const outDir = join(dir, "library");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
    const cli = (...args: string[]) =>
      runBinary([...args, "--database-url", url, "--state-dir", stateDir, "--out", outDir], {
        cwd: dir,
        env,
      });

    // A looking command does not create the schema: an empty database is no state.
    const empty = await cli("queue", "stats");
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("no docstokg tables in");
    expect(empty.stderr).not.toContain("queue.db");
    expect((await cli("plan")).stderr).toContain("no docstokg tables in");

    // import
    const works = join(dir, "works.jsonl");
    writeFileSync(
      works,
      `${Array.from({ length: WORKS }, (_, n) => JSON.stringify({ doi: `10.1000/pg${n}` })).join("\n")}\nnot json\n`,
    );
    const imported = await cli("queue", "import", works, "--json");
    expect(imported.stderr).toContain("line 7");
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ added: WORKS, invalid: 1 });

    // plan forecasts the shared queue
    const plan = await cli("plan", "--json");
    expect(plan.code).toBe(0);
    const forecast = JSON.parse(plan.stdout);
    expect(forecast.jobs).toBe(WORKS);
    // Every DOI may ask Crossref once (the default tiers; Unpaywall needs a contact address).
    expect(forecast.sources.find((x: { source: string }) => x.source === "crossref")?.requests).toBe(WORKS);

    // stats, list, show
    const stats = JSON.parse((await cli("queue", "stats", "--json")).stdout);
    expect(stats.counts.queued).toBe(WORKS);
    expect(stats.paused).toBe(false);
    const listed = (await cli("queue", "list", "--json")).stdout.trim().split("\n");
    expect(listed.map((l) => JSON.parse(l).artifactId).sort()).toEqual(
      Array.from({ length: WORKS }, (_, n) => `doi:10.1000/pg${n}`),
    );
    const shown = JSON.parse((await cli("queue", "show", "doi:10.1000/pg3", "--json")).stdout);
    expect(shown.job.artifactId).toBe("doi:10.1000/pg3");
    const missing = await cli("queue", "show", "doi:10.1000/none");
    expect(missing.code).toBe(2);

    // pause / resume reach the shared settings
    expect((await cli("queue", "pause")).code).toBe(0);
    expect(JSON.parse((await cli("queue", "stats", "--json")).stdout).paused).toBe(true);
    expect((await cli("queue", "resume")).code).toBe(0);
    expect(JSON.parse((await cli("queue", "stats", "--json")).stdout).paused).toBe(false);

    // Work finished as runners would: two files obtained (one of them later lost from the
    // library), one skipped, one failed for good.
    const sql = new SQL({ url, max: 2 });
    const good = Buffer.from("%PDF-1.4 stored\n");
    const goodSha = createHash("sha256").update(good).digest("hex");
    const lostSha = createHash("sha256").update("lost").digest("hex");
    const goodPath = libraryPath(outDir, "pdf", goodSha);
    mkdirSync(dirname(goodPath), { recursive: true });
    writeFileSync(goodPath, good);
    try {
      const queue = new PostgresJobQueue(
        sql,
        queuePolicy({ lease_ttl_s: 60, max_attempts: 3, backoff_base_s: 1, backoff_cap_s: 5 } as never),
      );
      const leased = await queue.lease("test-runner", 4);
      expect(leased).toHaveLength(4);
      const [a, b, c, d] = leased as [
        (typeof leased)[0],
        (typeof leased)[0],
        (typeof leased)[0],
        (typeof leased)[0],
      ];
      const attempt = (status: number, reason: string, wait: number) => ({
        role: "artifact" as const,
        resolver: "direct",
        tier: 0,
        url: "https://pg.site.test/x.pdf",
        host: "pg.site.test",
        httpStatus: status,
        reason,
        rateWaitMs: wait,
      });
      const done = (sha: string, path: string, bytes: number) => ({
        state: "done" as const,
        reason: "ok",
        resolver: "direct",
        tier: 0,
        sha256: sha,
        bytes,
        contentType: "application/pdf",
        path,
        attempts: [attempt(200, "ok", 10)],
      });
      expect(await queue.ack(a.id, a.token, done(goodSha, goodPath, good.length))).toBe(true);
      expect(await queue.ack(b.id, b.token, done(lostSha, libraryPath(outDir, "pdf", lostSha), 4))).toBe(
        true,
      );
      expect(
        await queue.ack(c.id, c.token, { state: "skipped", reason: "no_candidates", attempts: [] }),
      ).toBe(true);
      expect(
        await queue.fail(d.id, d.token, {
          reason: "http_404",
          transient: false,
          attempts: [attempt(429, "http_429", 30)],
        }),
      ).toMatchObject({ state: "error" });
    } finally {
      await sql.close();
    }

    // report: outcomes by reason, yield, hosts — all from the database
    const report = JSON.parse((await cli("report", "--json")).stdout);
    expect(report.jobs.by_state).toEqual({ queued: 2, in_progress: 0, done: 2, skipped: 1, error: 1 });
    expect(report.jobs.by_reason).toEqual([
      { state: "done", reason: "ok", count: 2 },
      { state: "skipped", reason: "no_candidates", count: 1 },
      { state: "error", reason: "http_404", count: 1 },
    ]);
    expect(report.yield).toMatchObject({ finished: 4, obtained: 2, ratio: 0.5 });
    expect(report.yield.by_resolver).toEqual([{ resolver: "direct", attempts: 3, obtained: 2, share: 1 }]);
    expect(report.hosts).toEqual([
      expect.objectContaining({
        host: "pg.site.test",
        requests: 3,
        responses_429: 1,
        rate_wait_ms: { count: 3, p50: 10, p95: 30 },
      }),
    ]);
    expect(report.bytes).toMatchObject({ files: 2, stored: good.length + 4 });
    // --verify re-hashes what the database's outcomes name: one file there, one missing
    const verify = await cli("report", "--verify", "--json");
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.stdout).verify).toMatchObject({ files: 2, ok: 1, missing: 1, corrupt: 0 });
    expect(verify.stderr).toContain("1 stored file missing");

    // manifest export: every outcome of the fleet, by seq
    const exported = (await cli("manifest", "export")).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(exported.map((o) => o.state).sort()).toEqual(["done", "done", "error", "skipped"]);
    const csv = (await cli("manifest", "export", "--format", "csv", "--state", "done")).stdout
      .trim()
      .split("\r\n");
    expect(csv).toHaveLength(3);

    // retry-failed moves the failed job back
    const dry = await cli("queue", "retry-failed", "--dry-run");
    expect(dry.stdout).toBe("would move 1 error jobs back to queued\n");
    expect((await cli("queue", "retry-failed")).stdout).toBe("moved 1 error jobs back to queued\n");
    expect(JSON.parse((await cli("queue", "stats", "--json")).stdout).counts).toMatchObject({
      queued: 3,
      error: 0,
    });
    const requeued = await cli("queue", "requeue", "doi:10.1000/none");
    expect(requeued.code).toBe(2);

    // serve: the status page over the shared database, read-only
    const proc = Bun.spawn(
      [
        await builtBinary(),
        "serve",
        "--database-url",
        url,
        "--state-dir",
        join(dir, "elsewhere"),
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
      ],
      { cwd: dir, env, stdout: "ignore", stderr: "pipe" },
    );
    try {
      const { url: served } = await announcedUrl(proc.stderr);
      const get = async (path: string) => {
        const res = await fetch(new URL(path, served));
        expect(res.status).toBe(200);
        return (await res.json()) as Record<string, unknown>;
      };
      expect((await get("/api/stats")).counts).toEqual({
        queued: 3,
        in_progress: 0,
        done: 2,
        skipped: 1,
        error: 0,
      });
      const found = (await get("/api/search?q=https://doi.org/10.1000/PG0")).jobs as { artifactId: string }[];
      expect(found.map((j) => j.artifactId)).toEqual(["doi:10.1000/pg0"]);
      const summary = (await get("/api/summary")) as {
        failures: { state: string; reason: string; count: number }[];
        yield: { obtained: number };
      };
      expect(summary.failures).toEqual([
        expect.objectContaining({ state: "skipped", reason: "no_candidates", count: 1 }),
      ]);
      expect(summary.yield.obtained).toBe(2);
      const pause = await fetch(new URL("/api/pause", served), { method: "POST" });
      expect(pause.status).not.toBe(200);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill("SIGKILL");
    }

    // serve with status.token: its controls steer the shared queue
    const controlled = Bun.spawn(
      [
        await builtBinary(),
        "serve",
        "--database-url",
        url,
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
      ],
      {
        cwd: dir,
        env: { ...env, DOCSTOKG_STATUS__TOKEN: "tok-pg-123456" },
        stdout: "ignore",
        stderr: "pipe",
      },
    );
    try {
      const { url: served } = await announcedUrl(controlled.stderr);
      const post = (path: string) =>
        fetch(new URL(path, served), { method: "POST", headers: { Authorization: "Bearer tok-pg-123456" } });
      expect((await post("/api/pause")).status).toBe(200);
      expect(JSON.parse((await cli("queue", "stats", "--json")).stdout).paused).toBe(true);
      expect((await post("/api/resume")).status).toBe(200);
      expect(JSON.parse((await cli("queue", "stats", "--json")).stdout).paused).toBe(false);
      controlled.kill("SIGTERM");
      expect(await controlled.exited).toBe(0);
    } finally {
      controlled.kill("SIGKILL");
    }
  }, 120_000);
});
