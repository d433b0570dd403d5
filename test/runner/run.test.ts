// `docstokg queue run` as users run it: the built binary over the simulated scholarly web. A drain
// of the catalogue obtains exactly what the truth says; SIGTERM with jobs in flight releases them
// and exits 0; two runners on one database never process a job twice; the status endpoint answers
// while running and turns unready while shutting down.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { isTransient } from "../../src/core/reasons.ts";
import { startApis } from "../support/apis.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import { buildCatalogue, type TestWork } from "../support/catalogue.ts";
import { prepareRunDir } from "../support/catalogue-run.ts";
import { makePdf } from "../support/pdf.ts";
import { startWeb } from "../support/web.ts";
import { corruptFiles, manifestLines, openState, spawnRunner, stateCounts } from "./harness.ts";

const works = buildCatalogue(2);
const web = await startWeb();
const sim = await startApis(web, works);
const dirs: string[] = [];
afterAll(async () => {
  await web.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const d = emptyDir("docstokg-run-");
  dirs.push(d);
  return d;
}

const envOf = (dir: string) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir });
const FAST = { politeness: { breaker_reset_s: 1 }, orchestrator: { drain_max_delay_s: 3 } };

interface JobView {
  n: number;
  state: string;
  reason: string | null;
  resolver: string | null;
  outcomes: number;
}

function jobsByWork(stateDir: string): Map<number, JobView> {
  const db = openState(stateDir);
  try {
    const rows = db
      .query<
        { n: number; state: string; reason: string | null; resolver: string | null; outcomes: number },
        []
      >(
        `SELECT json_extract(j.artifact, '$.meta.n') AS n, j.state, j.last_reason AS reason,
                (SELECT resolver FROM outcomes o WHERE o.job_id = j.id ORDER BY seq DESC LIMIT 1) AS resolver,
                (SELECT count(*) FROM outcomes o WHERE o.job_id = j.id) AS outcomes
           FROM jobs j`,
      )
      .all();
    return new Map(rows.map((r) => [r.n, r]));
  } finally {
    db.close();
  }
}

function mismatches(all: TestWork[], jobs: Map<number, JobView>): string[] {
  const bad: string[] = [];
  for (const w of all) {
    const j = jobs.get(w.n);
    const e = w.expect;
    const got = j ? `${j.state} ${j.reason} via ${j.resolver}` : "missing";
    const fine = !j
      ? false
      : e.obtained
        ? j.state === "done" && j.resolver === e.resolver
        : "transient" in e
          ? (j.state === "error" && isTransient(j.reason as never)) || j.state === "queued"
          : j.state === "error" && j.reason === e.reason;
    if (!fine) bad.push(`work ${w.n} (${w.scenario}): got ${got}, want ${JSON.stringify(e)}`);
  }
  return bad;
}

describe("queue run --drain", () => {
  test(`drains the ${works.length}-work catalogue: every work ends as the truth says, manifest once per outcome`, async () => {
    const dir = newDir();
    const run = prepareRunDir(dir, sim, works, FAST);
    const env = envOf(dir);
    const imported = await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], {
      cwd: dir,
      env,
    });
    expect(imported.code).toBe(0);
    const r = await runBinary(["queue", "run", "--drain", "--workers", "8", "--config", run.configFile], {
      cwd: dir,
      env,
    });
    expect(r.stderr).toContain("drained");
    expect(r.code).toBe(0);
    const jobs = jobsByWork(run.stateDir);
    expect(mismatches(works, jobs)).toEqual([]);
    const db = openState(run.stateDir);
    try {
      expect(stateCounts(db).in_progress).toBe(0);
      expect(corruptFiles(db, run.outDir)).toEqual([]);
      const outcomes = db.query<{ n: number }, []>("SELECT count(*) AS n FROM outcomes").get()?.n;
      const lines = manifestLines(run.stateDir);
      expect(lines.length).toBe(outcomes as number);
      expect(new Set(lines.map((l) => l.seq)).size).toBe(lines.length);
      // A job ends once: no work has two outcomes.
      expect([...jobs.values()].filter((j) => j.outcomes > 1)).toEqual([]);
    } finally {
      db.close();
    }
  }, 90_000);

  test("two runners on one database share the work: no job processed twice, all terminal", async () => {
    const dir = newDir();
    const extra = await web.host({ name: "bulk.site.test" });
    const bulk: TestWork[] = Array.from({ length: 120 }, (_, i) => {
      const n = 1000 + i;
      extra.pdf(`/b${n}.pdf`, makePdf(`bulk ${n}`));
      return {
        n,
        scenario: "bulk",
        ids: {},
        pdf_urls: [],
        pages: [],
        expect: { obtained: true, resolver: "direct" },
      };
    });
    const obtainable = works.filter((w) => w.expect.obtained);
    const run = prepareRunDir(dir, sim, obtainable, FAST);
    // Bulk works carry their own URL on the extra host.
    const lines = bulk.map((w) =>
      JSON.stringify({ pdf_urls: [extra.url(`/b${w.n}.pdf`)], meta: { n: w.n } }),
    );
    await Bun.write(run.worksFile, `${await Bun.file(run.worksFile).text()}${lines.join("\n")}\n`);
    const env = envOf(dir);
    expect(
      (await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], { cwd: dir, env }))
        .code,
    ).toBe(0);
    const args = ["queue", "run", "--drain", "--workers", "4", "--config", run.configFile];
    const t0 = performance.now(); // the sites are shared with other tests: count this run's requests only
    const [a, b] = await Promise.all([
      spawnRunner(args, { cwd: dir, env }),
      spawnRunner(args, { cwd: dir, env }),
    ]);
    const [ca, cb] = await Promise.all([a.exited, b.exited]);
    expect([ca, cb]).toEqual([0, 0]);
    // Both did some of the work.
    expect(a.stderr()).toMatch(/drained: [1-9]\d* done/);
    expect(b.stderr()).toMatch(/drained: [1-9]\d* done/);
    const jobs = jobsByWork(run.stateDir);
    expect(mismatches([...obtainable, ...bulk], jobs)).toEqual([]);
    const db = openState(run.stateDir);
    try {
      expect(stateCounts(db)).toMatchObject({ queued: 0, in_progress: 0, error: 0 });
      // Every file came over the wire once: the sites saw one request per obtained URL.
      const urls = db.query<{ url: string }, []>("SELECT url FROM outcomes WHERE state = 'done'").all();
      expect(urls.length).toBe(obtainable.length + bulk.length);
      const twice = urls.filter(({ url }) => {
        const u = new URL(url);
        const host = web.hosts.find((h) => h.port === Number(u.port) && h.address === u.hostname);
        return (host?.hits(u.pathname).filter((r) => r.at >= t0).length ?? 0) !== 1;
      });
      expect(twice).toEqual([]);
      expect([...jobs.values()].filter((j) => j.outcomes !== 1)).toEqual([]);
      expect(db.query("SELECT count(*) AS n FROM jobs WHERE last_reason = 'lease_lost'").get()).toEqual({
        n: 0,
      });
    } finally {
      db.close();
    }
  }, 90_000);
});

describe("queue run: status endpoint and SIGTERM", () => {
  test("routes answer while running (auth, 400s); SIGTERM makes /readyz 503, releases in-flight jobs, exits 0", async () => {
    const dir = newDir();
    const slow = await web.host({ name: "slow.site.test" });
    const slowWorks: TestWork[] = Array.from({ length: 12 }, (_, i) => {
      const n = 2000 + i;
      slow.pdf(`/s${n}.pdf`, makePdf(`slow ${n}`, { minBytes: 6000 }));
      slow.fault(`/s${n}.pdf`, { kind: "drip", chunkBytes: 300, intervalMs: 100 });
      return { n, scenario: "slow", ids: {}, pages: [], expect: { obtained: true, resolver: "direct" } };
    });
    const token = "status-token-for-tests";
    const run = prepareRunDir(dir, sim, [], {
      ...FAST,
      status: { token },
      orchestrator: { shutdown_grace_s: 1, drain_max_delay_s: 3 },
    });
    await Bun.write(
      run.worksFile,
      slowWorks
        .map((w) => `${JSON.stringify({ pdf_urls: [slow.url(`/s${w.n}.pdf`)], meta: { n: w.n } })}\n`)
        .join(""),
    );
    const env = envOf(dir);
    expect(
      (await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], { cwd: dir, env }))
        .code,
    ).toBe(0);
    const runner = await spawnRunner(
      ["queue", "run", "--workers", "3", "--status", "127.0.0.1:0", "--config", run.configFile],
      { cwd: dir, env },
    );
    try {
      const [, base] = await runner.waitFor(/status endpoint at (http:\/\/127\.0\.0\.1:\d+\/)/);
      const get = (path: string, init?: RequestInit) => fetch(new URL(path, base), init);
      expect((await get("/healthz")).status).toBe(200);
      expect((await get("/readyz")).status).toBe(200);
      const bad = await get("/api/jobs?limit=0");
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toBe("bad_request");
      expect((await get("/api/jobs?state=bogus")).status).toBe(400);
      expect((await get("/api/pause", { method: "POST" })).status).toBe(401);
      expect(
        (await get("/api/pause", { method: "POST", headers: { authorization: "Bearer wrong" } })).status,
      ).toBe(401);
      const auth = { authorization: `Bearer ${token}` };
      expect((await get("/api/pause", { method: "POST", headers: auth })).status).toBe(200);
      expect(((await (await get("/api/stats")).json()) as { paused: boolean }).paused).toBe(true);
      expect((await get("/api/resume", { method: "POST", headers: auth })).status).toBe(200);
      const metrics = await (await get("/metrics")).text();
      expect(metrics).toContain("docstokg_jobs_in_flight");
      const jobs = (await (await get("/api/jobs?limit=5")).json()) as { jobs: unknown[] };
      expect(jobs.jobs.length).toBe(5);

      // Wait until downloads are in flight, then ask for a graceful stop.
      while (slow.requests.length < 3) await Bun.sleep(20);
      runner.proc.kill("SIGTERM");
      await runner.waitFor(/SIGTERM: stopping/);
      const ready = await get("/readyz");
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: string }).error).toBe("shutting_down");
      expect(await runner.exited).toBe(0);
    } finally {
      runner.proc.kill("SIGKILL");
    }
    const db = openState(run.stateDir);
    try {
      const counts = stateCounts(db);
      expect(counts.in_progress).toBe(0);
      expect(counts.queued + counts.done).toBe(slowWorks.length);
      expect(counts.queued).toBeGreaterThan(0);
      // Released work was not charged an attempt.
      expect(db.query("SELECT max(attempts) AS a FROM jobs WHERE state = 'queued'").get()).toEqual({ a: 0 });
      expect(manifestLines(run.stateDir).length).toBe(counts.done);
    } finally {
      db.close();
    }
  }, 60_000);

  test("a non-loopback status address without a token is refused (exit 2) before any work", async () => {
    const dir = newDir();
    const run = prepareRunDir(dir, sim, works.slice(0, 2), FAST);
    const r = await runBinary(
      ["queue", "run", "--drain", "--status", "0.0.0.0:0", "--config", run.configFile],
      {
        cwd: dir,
        env: envOf(dir),
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("token");
  }, 30_000);

  test("--no-status runs without the endpoint; the missing contact email is one clear warning", async () => {
    const dir = newDir();
    const run = prepareRunDir(dir, sim, works.slice(0, 1), { ...FAST, status: { enabled: true } });
    const cfg = JSON.parse(await Bun.file(run.configFile).text());
    delete cfg.contact_email;
    await Bun.write(run.configFile, JSON.stringify(cfg));
    const r = await runBinary(["queue", "run", "--drain", "--no-status", "--config", run.configFile], {
      cwd: dir,
      env: envOf(dir),
    });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("status endpoint at");
    expect(r.stderr.match(/Unpaywall is disabled/g)?.length).toBe(1);
  }, 30_000);
});
