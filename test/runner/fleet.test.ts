// A fleet on one PostgreSQL: two built runners (`queue run --drain`), each with its own state
// directory, one shared library, one shared database, over a small simulated web whose hosts allow
// 20 requests/s and 2 at a time. Every work is obtained once, each outcome appears in exactly one of
// the two manifests, and no host sees more than its limits: the two runners share one budget.
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
import { prepareRunDir } from "../support/catalogue-run.ts";
import { makePdf } from "../support/pdf.ts";
import { startTestPostgres } from "../support/postgres.ts";
import { type SimHost, startWeb } from "../support/web.ts";
import { type ManifestRecord, manifestRecords } from "./harness.ts";

const WORKS = 60;
const HOSTS = 3;
const INTERVAL_MS = 50; // 20/s per host
const MAX_CONCURRENT = 2;

const pg = await startTestPostgres();
const web = await startWeb();
const sim = await startApis(web, []);
const dir = emptyDir("docstokg-fleet-");
afterAll(async () => {
  await web.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000); // stopping a cluster can take a while on a loaded machine

describe.skipIf(!pg)("a fleet of two runners on one PostgreSQL", () => {
  test("every work once, each outcome in exactly one manifest, no host over its limits", async () => {
    if (!pg) return;
    const url = await pg.createDatabase("fleet");
    const hosts: SimHost[] = [];
    for (let i = 0; i < HOSTS; i++) hosts.push(await web.host({ name: `fleet${i}.site.test` }));
    const bytes = new Map<string, string>();
    const artifacts = [];
    for (let n = 0; n < WORKS; n++) {
      const host = hosts[n % HOSTS] as SimHost;
      const pdf = makePdf(`fleet work ${n}`, { minBytes: 8_000 });
      host.pdf(`/f${n}.pdf`, pdf);
      const parsed = normalizeArtifact({ pdf_urls: [host.url(`/f${n}.pdf`)], meta: { n } });
      if (!parsed.ok) throw new Error(parsed.reason);
      artifacts.push(parsed.value);
      bytes.set(parsed.value.id, createHash("sha256").update(pdf).digest("hex"));
    }
    const library = join(dir, "library");
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
      orchestrator: { poll_interval_s: 0.05, drain_max_delay_s: 5 },
    };
    const runs = ["a", "b"].map((name) => {
      mkdirSync(join(dir, name));
      return prepareRunDir(join(dir, name), sim, [], overrides);
    });

    // The fleet's queue, filled once (any runner could do it; the test does it directly).
    const sql = new SQL({ url, max: 2 });
    try {
      await migratePostgres(sql);
      const queue = new PostgresJobQueue(
        sql,
        queuePolicy({ lease_ttl_s: 5, max_attempts: 3, backoff_base_s: 0.2, backoff_cap_s: 1 } as never),
      );
      expect((await queue.enqueue(artifacts)).added).toBe(WORKS);

      const binary = await builtBinary();
      const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
      const procs = runs.map((r) =>
        Bun.spawn([binary, "queue", "run", "--drain", "--workers", "8", "--config", r.configFile], {
          cwd: r.dir,
          env,
          stdout: "pipe",
          stderr: "pipe",
        }),
      );
      const ends = await Promise.all(
        procs.map(async (p) => ({ code: await p.exited, err: await new Response(p.stderr).text() })),
      );
      for (const e of ends)
        expect({ code: e.code, err: e.code === 0 ? "" : e.err }).toEqual({ code: 0, err: "" });

      // Every work obtained once, with the right bytes.
      const stats = await queue.stats();
      expect(stats.counts).toMatchObject({ queued: 0, in_progress: 0, done: WORKS, error: 0 });
      for (const h of hosts)
        for (let n = hosts.indexOf(h); n < WORKS; n += HOSTS) expect(h.hits(`/f${n}.pdf`)).toHaveLength(1);

      // Each outcome in exactly one of the two manifests, and both runners wrote some.
      const [ma, mb] = runs.map((r) => manifestRecords(r.stateDir)) as [ManifestRecord[], ManifestRecord[]];
      const all = [...ma, ...mb];
      expect(all).toHaveLength(WORKS);
      expect(new Set(all.map((l) => l.seq)).size).toBe(WORKS);
      expect(new Set(all.map((l) => l.artifact_id)).size).toBe(WORKS);
      for (const l of all) {
        expect(l.sha256).toBe(bytes.get(l.artifact_id) as string);
        const file = join(library, l.path as string);
        expect(createHash("sha256").update(readFileSync(file)).digest("hex")).toBe(l.sha256 as string);
      }

      // One budget for the fleet, counted as bench/runner.ts counts violations: no window of 10
      // intervals (5 % off for arrival jitter) holds more than 10 file requests, and never more than
      // MAX_CONCURRENT at once. Two runners each on its own budget would double both.
      const files = (r: { path: string }) => r.path !== "/robots.txt";
      for (const h of hosts) {
        expect(h.maxConcurrency()).toBeLessThanOrEqual(MAX_CONCURRENT);
        expect(h.maxInWindow(INTERVAL_MS * 10 * 0.95, files)).toBeLessThanOrEqual(10);
      }
      const [ra] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM runners`;
      expect(Number(ra?.n)).toBe(0); // both deregistered at exit
      // Both runners leased work (each appended what it claimed; the first flush may take all).
      const owners = await sql<{ n: string }[]>`SELECT count(DISTINCT outbox_instance) AS n FROM outcomes`;
      expect(Number(owners[0]?.n)).toBeGreaterThanOrEqual(1);
    } finally {
      await sql.close();
    }
  }, 120_000);
});
