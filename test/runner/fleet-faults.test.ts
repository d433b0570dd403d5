// Pause and resume reach every runner at once (LISTEN/NOTIFY), not at their next poll.
// Faults in a fleet on one PostgreSQL, with built runners (`queue run --drain`), one state directory
// each, one shared library, over a simulated web whose hosts allow 10 requests/s and 2 at a time:
// the server restarted mid-run, and one of three runners killed with SIGKILL and started again.
// Either way every work is obtained once with the right bytes, each outcome appears exactly once
// across the manifests and once in the database, and no host sees more than its limits.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { normalizeArtifact } from "../../src/artifact/artifact.ts";
import { migratePostgres } from "../../src/store/postgres/migrations.ts";
import { PostgresJobQueue } from "../../src/store/postgres/queue.ts";
import { queuePolicy } from "../../src/store/sqlite-queue.ts";
import { startApis } from "../support/apis.ts";
import { builtBinary, emptyDir } from "../support/binary.ts";
import { prepareRunDir, type RunDir } from "../support/catalogue-run.ts";
import { makePdf } from "../support/pdf.ts";
import { startTestPostgres } from "../support/postgres.ts";
import { type SimHost, startWeb } from "../support/web.ts";
import { manifestRecords } from "./harness.ts";

const HOSTS = 4;
const INTERVAL_MS = 100; // 10/s per host
const MAX_CONCURRENT = 2;

const pg = await startTestPostgres();
const web = await startWeb();
const sim = await startApis(web, []);
const dir = emptyDir("docstokg-fleet-faults-");
afterAll(async () => {
  await web.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000); // stopping a cluster can take a while on a loaded machine

interface Fleet {
  url: string;
  sql: SQL;
  queue: PostgresJobQueue;
  hosts: SimHost[];
  bytes: Map<string, string>;
  library: string;
  runs: RunDir[];
  start(run: RunDir): Bun.Subprocess<"ignore", "pipe", "pipe">;
  done(): Promise<number>;
}

/** A database, `works` PDFs spread over fresh hosts, the queue filled, `runners` run directories. */
async function fleet(name: string, works: number, runners: number, pollS = 0.05): Promise<Fleet> {
  if (!pg) throw new Error("no PostgreSQL");
  const url = await pg.createDatabase(name);
  const hosts: SimHost[] = [];
  for (let i = 0; i < HOSTS; i++) hosts.push(await web.host({ name: `${name}${i}.site.test` }));
  const bytes = new Map<string, string>();
  const artifacts = [];
  for (let n = 0; n < works; n++) {
    const host = hosts[n % HOSTS] as SimHost;
    const pdf = makePdf(`${name} work ${n}`, { minBytes: 8_000 });
    host.pdf(`/w${n}.pdf`, pdf);
    const parsed = normalizeArtifact({ pdf_urls: [host.url(`/w${n}.pdf`)], meta: { n } });
    if (!parsed.ok) throw new Error(parsed.reason);
    artifacts.push(parsed.value);
    bytes.set(parsed.value.id, createHash("sha256").update(pdf).digest("hex"));
  }
  const base = join(dir, name);
  const library = join(base, "library");
  const limits = Object.fromEntries(
    hosts.map((h) => [
      `${h.address}:${h.port}`,
      { rate: `1/${INTERVAL_MS}ms`, max_concurrent: MAX_CONCURRENT, burst: 1 },
    ]),
  );
  const overrides = {
    out_dir: library,
    database_url: url,
    database_pool_size: 4,
    queue: { lease_ttl_s: 5, heartbeat_s: 1 },
    politeness: { hosts: limits },
    orchestrator: { poll_interval_s: pollS, drain_max_delay_s: 5 },
  };
  const runs = Array.from({ length: runners }, (_, i) => {
    const d = join(base, `r${i}`);
    mkdirSync(d, { recursive: true });
    return prepareRunDir(d, sim, [], overrides);
  });
  const sql = new SQL({ url, max: 2 });
  await migratePostgres(sql);
  const queue = new PostgresJobQueue(
    sql,
    queuePolicy({ lease_ttl_s: 5, max_attempts: 3, backoff_base_s: 0.2, backoff_cap_s: 1 } as never),
  );
  expect((await queue.enqueue(artifacts)).added).toBe(works);
  const binary = await builtBinary();
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: base };
  return {
    url,
    sql,
    queue,
    hosts,
    bytes,
    library,
    runs,
    start: (r) =>
      Bun.spawn([binary, "queue", "run", "--drain", "--workers", "8", "--config", r.configFile], {
        cwd: r.dir,
        env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      }),
    done: async () => {
      const [r] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM outcomes`;
      return Number(r?.n);
    },
  };
}

/** Resolves once `f.done()` reaches `n` (polled; the runners are other processes). */
async function outcomesReach(f: Fleet, n: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await f.done()) < n) {
    if (Date.now() > until) throw new Error(`fewer than ${n} outcomes after ${timeoutMs} ms`);
    await Bun.sleep(25);
  }
}

async function ended(p: Bun.Subprocess<"ignore", "pipe", "pipe">) {
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  return { code, err };
}

/** Every work once with the right bytes, each outcome once across the manifests and in the database. */
async function expectAllOnce(f: Fleet, works: number, refetched = 0): Promise<void> {
  const stats = await f.queue.stats();
  expect(stats.counts).toMatchObject({ queued: 0, in_progress: 0, done: works, error: 0 });
  const [o] = await f.sql<{ n: string; ids: string }[]>`
    SELECT count(*) AS n, count(DISTINCT artifact_id) AS ids FROM outcomes`;
  expect({ n: Number(o?.n), ids: Number(o?.ids) }).toEqual({ n: works, ids: works });
  let hits = 0;
  for (const h of f.hosts)
    for (let n = f.hosts.indexOf(h); n < works; n += HOSTS) {
      const k = h.hits(`/w${n}.pdf`).length;
      expect(k).toBeGreaterThanOrEqual(1);
      hits += k;
    }
  // Only a download cut short by a killed runner may be fetched again.
  expect(hits - works).toBeLessThanOrEqual(refetched);
  const all = f.runs.flatMap((r) => manifestRecords(r.stateDir));
  expect(all).toHaveLength(works);
  expect(new Set(all.map((l) => l.seq)).size).toBe(works);
  expect(new Set(all.map((l) => l.artifact_id)).size).toBe(works);
  for (const l of all) {
    expect(l.state).toBe("done");
    expect(l.sha256).toBe(f.bytes.get(l.artifact_id) as string);
    const file = join(f.library, l.path as string);
    expect(createHash("sha256").update(readFileSync(file)).digest("hex")).toBe(l.sha256 as string);
  }
  // The fleet's one budget, counted as bench/runner.ts counts violations.
  const files = (r: { path: string }) => r.path !== "/robots.txt";
  for (const h of f.hosts) {
    expect(h.maxConcurrency()).toBeLessThanOrEqual(MAX_CONCURRENT);
    expect(h.maxInWindow(INTERVAL_MS * 10 * 0.95, files)).toBeLessThanOrEqual(10);
  }
}

describe.skipIf(!pg)("a fleet on PostgreSQL under faults", () => {
  test("the server restarted mid-run: runners keep their work, log it once, and finish", async () => {
    if (!pg) return;
    const WORKS = 80;
    const f = await fleet("restart", WORKS, 2);
    try {
      const procs = f.runs.map((r) => f.start(r));
      const ends = Promise.all(procs.map(ended));
      await outcomesReach(f, WORKS / 4);
      await pg.restart();
      const results = await ends;
      for (const e of results)
        expect({ code: e.code, err: e.code === 0 ? "" : e.err }).toEqual({ code: 0, err: "" });
      await expectAllOnce(f, WORKS);
      // Logged once per runner that noticed: not once per failed statement.
      const downs = results.map((e) => (e.err.match(/unreachable \(/g) ?? []).length);
      for (const n of downs) expect(n).toBeLessThanOrEqual(1);
      expect(downs.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    } finally {
      await f.sql.close();
    }
  }, 180_000);

  test("pause and resume reach two runners within a second", async () => {
    if (!pg) return;
    const WORKS = 120;
    // A 5 s poll: only the notification can bring an idle runner back within a second.
    const f = await fleet("pause", WORKS, 2, 5);
    const inProgress = async () => {
      const [r] = await f.sql<{ n: string }[]>`SELECT count(*) AS n FROM jobs WHERE state = 'in_progress'`;
      return Number(r?.n);
    };
    try {
      const procs = f.runs.map((r) => f.start(r));
      const ends = Promise.all(procs.map(ended));
      await outcomesReach(f, 20);
      await f.queue.pause();
      const paused = Date.now();
      while ((await inProgress()) > 0) {
        expect(Date.now() - paused).toBeLessThan(2_000); // unstarted leases back, in-flight finished
        await Bun.sleep(20);
      }
      const held = await f.done();
      await Bun.sleep(1_500);
      expect({ done: await f.done(), inProgress: await inProgress() }).toEqual({ done: held, inProgress: 0 });
      await f.queue.resume();
      const resumed = Date.now();
      while ((await inProgress()) === 0 && (await f.done()) === held) {
        expect(Date.now() - resumed).toBeLessThan(1_000);
        await Bun.sleep(10);
      }
      const results = await ends;
      for (const e of results)
        expect({ code: e.code, err: e.code === 0 ? "" : e.err }).toEqual({ code: 0, err: "" });
      await expectAllOnce(f, WORKS);
    } finally {
      await f.sql.close();
    }
  }, 180_000);

  test("three runners, one killed with SIGKILL mid-run and started again: every work once", async () => {
    if (!pg) return;
    const WORKS = 200;
    const f = await fleet("kill", WORKS, 3);
    try {
      const procs = f.runs.map((r) => f.start(r));
      await outcomesReach(f, WORKS / 4);
      const victim = procs[1] as Bun.Subprocess<"ignore", "pipe", "pipe">;
      victim.kill("SIGKILL");
      expect(await victim.exited).not.toBe(0);
      const again = f.start(f.runs[1] as RunDir);
      const results = await Promise.all([procs[0], procs[2], again].map((p) => ended(p as never)));
      for (const e of results)
        expect({ code: e.code, err: e.code === 0 ? "" : e.err }).toEqual({ code: 0, err: "" });
      // The restarted runner took back what its predecessor held at once, not after the lease TTL.
      expect(results[2]?.err).toMatch(/took back \d+ job\(s\)/);
      await expectAllOnce(f, WORKS, 8);
    } finally {
      await f.sql.close();
    }
  }, 240_000);
});
