// The queue benchmarks on PostgreSQL (`bun bench/queue.ts --database-url URL|auto`): import rate
// through the `queue import` code path, lease(64) + ack by token with 4 runner processes against a
// raw SKIP LOCKED lease + ack loop in the same run, and 4 processes × N s checked for double leases,
// lost jobs and double acks. `auto` starts a throwaway cluster (test/support/postgres.ts).

import { rmSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { importStream } from "../src/store/import.ts";
import { migratePostgres } from "../src/store/postgres/migrations.ts";
import { PostgresJobQueue } from "../src/store/postgres/queue.ts";
import { startTestPostgres } from "../test/support/postgres.ts";

const POLICY = { leaseTtlMs: 120_000, maxAttempts: 5, backoff: { baseMs: 30_000, capMs: 3_600_000 } };
const WORKERS = 4;

export interface PgBenchOptions {
  url: string;
  dir: string;
  lines: number;
  jobs: number;
  seconds: number;
  skip: Set<string>;
  self: string;
  artifactLine: (i: number) => string;
  report: (name: string, value: string, target: string, ok: boolean) => void;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function child(self: string, args: string[]): Promise<Record<string, number>> {
  const proc = Bun.spawn([process.execPath, self, ...args], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  const code = await proc.exited;
  if (code !== 0) throw new Error(`child ${args.join(" ")} exited ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1) ?? "{}");
}

/** A fresh database on the server of `url`, migrated; answers its URL. */
async function freshDatabase(url: string, name: string): Promise<string> {
  const admin = new SQL({ url, max: 1 });
  const db = `docstokg_bench_${name}`;
  await admin.unsafe(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE "${db}"`);
  await admin.close();
  const u = new URL(url);
  u.pathname = `/${db}`;
  const sql = new SQL({ url: u.toString(), max: 1 });
  await migratePostgres(sql);
  await sql.close();
  return u.toString();
}

async function dropDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const db = u.pathname.slice(1);
  u.pathname = "/postgres";
  const admin = new SQL({ url: u.toString(), max: 1 });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  await admin.close();
}

async function fill(url: string, n: number, artifactLine: (i: number) => string): Promise<void> {
  const sql = new SQL({ url, max: 1 });
  const q = new PostgresJobQueue(sql, POLICY);
  for (let i = 0; i < n; i += 10_000) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 10_000); k++)
      batch.push({ id: `doi:10.5555/bench.${k}`, ...JSON.parse(artifactLine(k)) });
    await q.enqueue(batch);
  }
  await sql`VACUUM ANALYZE jobs`;
  await sql.close();
}

// ---- children ----

export async function pgChildImport(url: string, input: string): Promise<void> {
  const sql = new SQL({ url, max: 2 });
  const queue = new PostgresJobQueue(sql, POLICY);
  const t0 = performance.now();
  const s = await importStream(queue, Bun.file(input).stream(), {
    format: "artifact",
    rejectsPath: `${input}.rejects`,
  });
  const ms = performance.now() - t0;
  await sql.close();
  console.log(JSON.stringify({ ms, lines: s.lines, added: s.added }));
}

/** lease(64) + ack of each leased job by token, in one group commit, until nothing is left or `until`. */
export async function pgChildWorker(
  url: string,
  owner: string,
  until: number,
  leasedFile: string,
): Promise<void> {
  const sql = new SQL({ url, max: 2 });
  const queue = new PostgresJobQueue(sql, POLICY);
  const leased: number[] = [];
  let acked = 0;
  let lost = 0;
  const t0 = performance.now();
  while (Date.now() < until) {
    const jobs = await queue.lease(owner, 64);
    if (jobs.length === 0) break;
    for (const j of jobs) leased.push(j.id);
    const results = await queue.commitMany(
      jobs.map((j) => ({
        kind: "ack",
        jobId: j.id,
        token: j.token,
        outcome: { state: "done", reason: "ok" },
      })),
    );
    for (const r of results) {
      if (r.ok && r.value === true) acked++;
      else lost++;
    }
  }
  const ms = performance.now() - t0;
  await sql.close();
  if (leasedFile) await Bun.write(leasedFile, leased.join("\n"));
  console.log(JSON.stringify({ ms, acked, lost }));
}

/** The baseline: the bare SKIP LOCKED claim and a bare token-matched UPDATE per batch, no outcome rows. */
export async function pgChildRaw(url: string, owner: string): Promise<void> {
  const sql = new SQL({ url, max: 2 });
  let acked = 0;
  const t0 = performance.now();
  for (;;) {
    const rows = await sql<{ id: string; lease_token: string }[]>`
      WITH c AS (SELECT id FROM jobs WHERE state = 'queued' AND available_at <= 9e15
        ORDER BY priority DESC, available_at, id LIMIT 64 FOR UPDATE SKIP LOCKED)
      UPDATE jobs j SET state = 'in_progress', lease_owner = ${owner}, lease_token = md5(random()::text) || j.id
      FROM c WHERE j.id = c.id RETURNING j.id, j.lease_token`;
    if (rows.length === 0) break;
    const r = await sql`
      UPDATE jobs j SET state = 'done', lease_token = NULL
      FROM unnest(${sql.array(
        rows.map((x) => x.id),
        "INT8",
      )}, ${sql.array(
        rows.map((x) => x.lease_token),
        "TEXT",
      )}) AS l(id, token)
      WHERE j.id = l.id AND j.lease_token = l.token`;
    acked += r.count;
  }
  const ms = performance.now() - t0;
  await sql.close();
  console.log(JSON.stringify({ ms, acked }));
}

// ---- parent ----

async function benchImport(o: PgBenchOptions): Promise<void> {
  const input = join(o.dir, `pg-import-${o.lines}.jsonl`);
  const parts: string[] = [];
  for (let i = 0; i < o.lines; i++) parts.push(o.artifactLine(i));
  await Bun.write(input, `${parts.join("\n")}\n`);
  const url = await freshDatabase(o.url, "import");
  const r = await child(o.self, ["--child", "pg-import", "--database-url", url, "--input", input]);
  await dropDatabase(url);
  rmSync(input, { force: true });
  const rate = (r.lines ?? 0) / ((r.ms ?? 1) / 1000);
  o.report(`pg import, ${fmt(o.lines)} lines`, `${fmt(rate)} lines/s`, "≥ 50,000 lines/s", rate >= 50_000);
}

async function benchLeaseAck(o: PgBenchOptions): Promise<void> {
  const run = async (mode: "pg-worker" | "pg-raw") => {
    const url = await freshDatabase(o.url, mode.replace("-", "_"));
    await fill(url, o.jobs, o.artifactLine);
    const t0 = performance.now();
    const args = (w: number) =>
      mode === "pg-worker"
        ? [
            "--child",
            mode,
            "--database-url",
            url,
            "--owner",
            `w${w}`,
            "--until",
            String(Date.now() + 3_600_000),
            "--input",
            "",
          ]
        : ["--child", mode, "--database-url", url, "--owner", `w${w}`];
    const results = await Promise.all(Array.from({ length: WORKERS }, (_, w) => child(o.self, args(w))));
    const seconds = (performance.now() - t0) / 1000;
    await dropDatabase(url);
    const acked = results.reduce((s, r) => s + (r.acked ?? 0), 0);
    return { rate: acked / seconds, acked };
  };
  const raw = await run("pg-raw");
  const ours = await run("pg-worker");
  o.report(
    `pg lease(64)+ack, ${WORKERS} processes, ${fmt(o.jobs)} jobs`,
    `${fmt(ours.rate)} jobs/s (${fmt(ours.acked)})`,
    "≥ 10,000 jobs/s",
    ours.rate >= 10_000 && ours.acked === o.jobs,
  );
  o.report("  raw SKIP LOCKED lease + ack loop", `${fmt(raw.rate)} jobs/s`, "-", true);
  const ratio = ours.rate / raw.rate;
  o.report("  ratio queue / raw", ratio.toFixed(2), "≥ 0.40", ratio >= 0.4);
}

async function benchConcurrent(o: PgBenchOptions): Promise<void> {
  const url = await freshDatabase(o.url, "concurrent");
  // Enough that nobody runs dry within the window at well above the target rate.
  const total = Math.max(o.jobs, o.seconds * 25_000);
  await fill(url, total, o.artifactLine);
  const until = Date.now() + o.seconds * 1000;
  const files = Array.from({ length: WORKERS }, (_, w) => join(o.dir, `pg-leased-${w}.txt`));
  const results = await Promise.all(
    files.map((f, w) =>
      child(o.self, [
        "--child",
        "pg-worker",
        "--database-url",
        url,
        "--owner",
        `w${w}`,
        "--until",
        String(until),
        "--input",
        f,
      ]),
    ),
  );
  const seen = new Map<string, number>();
  for (const f of files) {
    for (const id of (await Bun.file(f).text()).split("\n").filter(Boolean))
      seen.set(id, (seen.get(id) ?? 0) + 1);
    rmSync(f, { force: true });
  }
  const doubleLeased = [...seen.values()].filter((n) => n > 1).length;
  const acked = results.reduce((s, r) => s + (r.acked ?? 0), 0);
  const staleAcks = results.reduce((s, r) => s + (r.lost ?? 0), 0);
  const sql = new SQL({ url, max: 1 });
  const [c] = await sql<
    { jobs: string; done: string; held: string; outcomes: string; distinct_jobs: string }[]
  >`
    SELECT (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM jobs WHERE state = 'done') AS done,
      (SELECT count(*) FROM jobs WHERE state = 'in_progress') AS held,
      (SELECT count(*) FROM outcomes) AS outcomes, (SELECT count(DISTINCT job_id) FROM outcomes) AS distinct_jobs`;
  await sql.close();
  await dropDatabase(url);
  const lost = total - Number(c?.jobs) + Math.abs(Number(c?.done) - acked) + Number(c?.held);
  const ackedTwice = Number(c?.outcomes) - Number(c?.distinct_jobs);
  o.report(
    `pg ${WORKERS} processes × ${o.seconds} s, lease(64)+ack`,
    `${fmt(acked / o.seconds)} jobs/s (${fmt(acked)})`,
    "-",
    true,
  );
  o.report("  jobs held by two leases", String(doubleLeased), "0", doubleLeased === 0);
  o.report("  jobs lost / acked twice", `${lost} / ${ackedTwice}`, "0 / 0", lost === 0 && ackedTwice === 0);
  o.report("  stale-token acks (expected 0 without expiry)", String(staleAcks), "0", staleAcks === 0);
}

export async function runPostgresBench(o: Omit<PgBenchOptions, "url"> & { url: string }): Promise<void> {
  const own = o.url === "auto" ? await startTestPostgres() : null;
  if (o.url === "auto" && !own) throw new Error("--database-url auto: no PostgreSQL server binaries here");
  const url = own ? own.adminUrl : o.url;
  const server = new SQL({ url, max: 1 });
  const [v] = await server<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
  const [f] = await server<{ f: string }[]>`SELECT current_setting('fsync') AS f`;
  await server.close();
  console.log(`PostgreSQL ${v?.v} (fsync ${f?.f}${own ? ", throwaway cluster" : ""})`);
  try {
    const opts = { ...o, url };
    if (!o.skip.has("import")) await benchImport(opts);
    if (!o.skip.has("ack")) await benchLeaseAck(opts);
    if (!o.skip.has("concurrent")) await benchConcurrent(opts);
  } finally {
    await own?.stop();
  }
}
