import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { openDatabase, openStateDatabase, SchemaTooNewError, schemaVersion } from "../../src/store/db.ts";
import { MIGRATIONS, type Migration } from "../../src/store/migrations.ts";
import { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { tempDir } from "../support/temp.ts";

let dir: string;
beforeEach(() => {
  dir = tempDir("db");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const POLICY = { leaseTtlMs: 60_000, maxAttempts: 5, backoff: { baseMs: 1000, capMs: 10_000 } };

describe("openDatabase", () => {
  test("creates the state directory and the file, with WAL, busy timeout, NORMAL sync and foreign keys", () => {
    const db = openStateDatabase(`${dir}/nested/state`);
    expect(existsSync(`${dir}/nested/state/queue.db`)).toBe(true);
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("PRAGMA busy_timeout").get()).toEqual({ timeout: 5000 });
    expect(db.query("PRAGMA synchronous").get()).toEqual({ synchronous: 1 });
    expect(db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    const tables = db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
      .all();
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["attempts", "jobs", "outbox", "outcomes", "schema_version", "settings"]),
    );
    db.close();
  });

  test("reopening applies nothing twice", () => {
    openDatabase(`${dir}/q.db`).close();
    const db = openDatabase(`${dir}/q.db`);
    expect(db.query("SELECT count(*) AS n FROM schema_version").get()).toEqual({ n: MIGRATIONS.length });
    db.close();
  });

  test("the runner applies later migrations in order, each once", () => {
    const seen: number[] = [];
    const extra: Migration[] = [
      ...MIGRATIONS,
      {
        version: 91,
        name: "b",
        up: (db) => {
          seen.push(91);
          db.run("CREATE TABLE b (x)");
        },
      },
      {
        version: 90,
        name: "a",
        up: (db) => {
          seen.push(90);
          db.run("CREATE TABLE a (x)");
        },
      },
    ];
    openDatabase(`${dir}/q.db`, { migrations: extra }).close();
    const db = openDatabase(`${dir}/q.db`, { migrations: extra });
    expect(seen).toEqual([90, 91]);
    expect(schemaVersion(db)).toBe(91);
    db.close();
  });

  test("a failing migration leaves the database at the previous version", () => {
    const broken: Migration[] = [
      ...MIGRATIONS,
      { version: 99, name: "bad", up: (db) => db.run("CREATE TABLE jobs (x)") },
    ];
    expect(() => openDatabase(`${dir}/q.db`, { migrations: broken })).toThrow();
    const db = openDatabase(`${dir}/q.db`);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    db.close();
  });

  test("a database from a newer docstokg is refused with a clear error", () => {
    const db = openDatabase(`${dir}/q.db`);
    db.run("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)");
    db.close();
    expect(() => openDatabase(`${dir}/q.db`)).toThrow(SchemaTooNewError);
    expect(() => openDatabase(`${dir}/q.db`)).toThrow(/schema version 999.*knows versions up to/);
    expect(() => openDatabase(`${dir}/q.db`, { readonly: true })).toThrow(SchemaTooNewError);
  });

  test("two connections leasing the same file never hold the same job", async () => {
    const path = `${dir}/q.db`;
    const a = new SqliteJobQueue(openDatabase(path), POLICY, { now: () => 1 });
    const b = new SqliteJobQueue(openDatabase(path), POLICY, { now: () => 1 });
    await a.enqueue(Array.from({ length: 300 }, (_, i) => ({ id: `x:${i}` })));
    const held = new Set<number>();
    for (let round = 0; round < 10; round++) {
      for (const q of [a, b]) {
        for (const job of await q.lease(q === a ? "a" : "b", 17)) {
          expect(held.has(job.id)).toBe(false);
          held.add(job.id);
        }
      }
    }
    expect(held.size).toBe(300);
    a.db.close();
    b.db.close();
  });

  test("claiming walks the partial indexes, never a sort over all ready rows", () => {
    const db = openDatabase(`${dir}/q.db`);
    const source = readFileSync(new URL("../../src/store/jobs/lease.ts", import.meta.url), "utf8");
    const sql = /const LEASE_JOBS = `([\s\S]*?)`;/.exec(source)?.[1] ?? "";
    const plan = db
      .query<{ detail: string }, Record<string, string | number>>(`EXPLAIN QUERY PLAN ${sql}`)
      .all({ $token: "t", $owner: "o", $expires: 1, $now: 1, $n: 64, $max: 5 })
      .map((r) => r.detail)
      .join("\n");
    expect(plan).toContain("COVERING INDEX jobs_ready_idx");
    expect(plan).toContain("INDEX jobs_lease_expiry_idx");
    expect(plan).not.toMatch(/USE TEMP B-TREE FOR ORDER BY[\s\S]*jobs_ready_idx/);
    db.close();
  });
});

describe("reference database conversion", () => {
  // The reference implementation's schema, verbatim in shape: ISO-8601 text timestamps, no version table.
  const REFERENCE_SCHEMA = `
    CREATE TABLE jobs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      artifact_id TEXT NOT NULL UNIQUE,
      artifact_json TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'queued',
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      resolver_hint TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      lease_expires_at TEXT,
      worker_id TEXT
    );
    CREATE INDEX idx_jobs_state ON jobs(state);
    CREATE INDEX idx_jobs_lease ON jobs(lease_expires_at);
    CREATE INDEX idx_jobs_created ON jobs(created_at);`;

  function writeReference(path: string, withAvailableAt = false): void {
    const db = new Database(path, { create: true });
    db.run("PRAGMA journal_mode = WAL");
    db.run(REFERENCE_SCHEMA);
    if (withAvailableAt) db.run("ALTER TABLE jobs ADD COLUMN available_at TEXT");
    const insert = db.query(
      `INSERT INTO jobs (id, artifact_id, artifact_json, state, attempts, last_error, created_at, updated_at, lease_expires_at, worker_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const t = "2025-10-21T12:00:00.123456+00:00";
    insert.run(1, "doi:10.1/queued", '{"doi": "10.1/queued"}', "queued", 0, null, t, t, null, null);
    // A retry delayed by the reference: the retry time is in lease_expires_at of a queued row.
    insert.run(
      2,
      "doi:10.1/delayed",
      '{"doi": "10.1/delayed"}',
      "queued",
      2,
      "timeout",
      t,
      t,
      "2030-01-01T00:00:00+00:00",
      null,
    );
    insert.run(
      3,
      "doi:10.1/leased",
      '{"doi": "10.1/leased"}',
      "in_progress",
      1,
      null,
      t,
      t,
      "2025-10-21T12:10:00+00:00",
      "worker-7",
    );
    insert.run(
      4,
      "doi:10.1/done",
      '{"doi": "10.1/done", "priority": 4}',
      "done",
      1,
      null,
      t,
      "2025-10-21 13:00:00",
      null,
      null,
    );
    insert.run(5, "doi:10.1/error", '{"doi": "10.1/error"}', "error", 3, "404 Not Found", t, t, null, null);
    insert.run(6, "doi:10.1/skipped", '{"doi": "10.1/skipped"}', "skipped", 1, null, t, t, null, null);
    insert.run(7, "weird:payload", "not json at all", "QUEUED", 0, null, "garbage-time", t, null, null);
    db.close();
  }

  test("opens in place and keeps every job with its state, attempts and availability", async () => {
    const path = `${dir}/workqueue.sqlite`;
    writeReference(path);
    const db = openDatabase(path);
    // Rows without a readable timestamp become available at migration time (the real clock).
    const now = Date.now() + 3_600_000;
    const q = new SqliteJobQueue(db, POLICY, { now: () => now });
    const rows = db
      .query<
        {
          id: number;
          artifact_id: string;
          state: string;
          attempts: number;
          available_at: number;
          lease_owner: string | null;
          lease_expires_at: number | null;
          last_error: string | null;
          created_at: number;
          updated_at: number;
          priority: number;
        },
        []
      >(
        "SELECT id, artifact_id, state, attempts, available_at, lease_owner, lease_expires_at, last_error, created_at, updated_at, priority FROM jobs ORDER BY id",
      )
      .all();
    expect(rows.map((r) => [r.id, r.artifact_id, r.state, r.attempts])).toEqual([
      [1, "doi:10.1/queued", "queued", 0],
      [2, "doi:10.1/delayed", "queued", 2],
      [3, "doi:10.1/leased", "in_progress", 1],
      [4, "doi:10.1/done", "done", 1],
      [5, "doi:10.1/error", "error", 3],
      [6, "doi:10.1/skipped", "skipped", 1],
      [7, "weird:payload", "queued", 0],
    ]);
    const created = Date.parse("2025-10-21T12:00:00.123Z");
    expect(rows[0]?.created_at).toBe(created);
    expect(rows[0]?.available_at).toBe(created);
    expect(rows[1]?.available_at).toBe(Date.parse("2030-01-01T00:00:00Z"));
    expect(rows[1]?.last_error).toBe("timeout");
    expect(rows[2]?.lease_owner).toBe("worker-7");
    expect(rows[2]?.lease_expires_at).toBe(Date.parse("2025-10-21T12:10:00Z"));
    expect(rows[3]?.updated_at).toBe(Date.parse("2025-10-21T13:00:00Z"));
    expect(rows[3]?.priority).toBe(4);
    expect(rows[4]?.last_error).toBe("404 Not Found");
    // No old table or index is left behind.
    const names = db
      .query<{ name: string }, []>("SELECT name FROM sqlite_master")
      .all()
      .map((r) => r.name);
    expect(names.some((n) => n.startsWith("reference_") || n.startsWith("idx_jobs"))).toBe(false);

    // It behaves as a queue: the queued job, the bad-payload job and the stale lease are leasable now,
    // the delayed one is not; the stale lease can be finished only with a new token.
    const leased = await q.lease("new", 10);
    expect(leased.map((j) => j.artifactId).sort()).toEqual([
      "doi:10.1/leased",
      "doi:10.1/queued",
      "weird:payload",
    ]);
    expect(leased.find((j) => j.artifactId === "doi:10.1/queued")?.artifact).toEqual({
      id: "doi:10.1/queued",
      doi: "10.1/queued",
    });
    expect(leased.find((j) => j.artifactId === "weird:payload")?.artifact).toEqual({
      id: "weird:payload",
      meta: { reference_payload: "not json at all" },
    });
    for (const job of leased)
      expect(await q.ack(job.id, job.token, { state: "done", reason: "ok" })).toBe(true);
    const s = await q.stats();
    expect(s.total).toBe(7);
    expect(s.counts).toEqual({ queued: 1, in_progress: 0, done: 4, skipped: 1, error: 1 });
    // New jobs get ids after the old ones.
    await q.enqueue([{ id: "doi:10.1/new", doi: "10.1/new" }]);
    expect((await q.show("doi:10.1/new"))?.job.id).toBe(8);
    db.close();
  });

  test("under its own name (workqueue.sqlite) in the state directory: a copy is converted, saying so; the original stays", async () => {
    const reference = `${dir}/workqueue.sqlite`;
    writeReference(reference);
    const before = readFileSync(reference);
    const notices: string[] = [];
    const db = openStateDatabase(dir, { onNotice: (m) => notices.push(m) });
    expect(notices).toEqual([
      `found the reference implementation's queue ${reference} and converted a copy of it into ${dir}/queue.db; the original is left as it was`,
    ]);
    const queue = new SqliteJobQueue(db, POLICY, { now: () => Date.UTC(2026, 0, 1) });
    expect((await queue.stats()).total).toBe(7);
    expect((await queue.show("doi:10.1/done"))?.job.state).toBe("done");
    db.close();
    expect(readFileSync(reference).equals(before)).toBe(true);
    // Opened again, the converted queue is used and nothing is converted twice.
    const again = openStateDatabase(dir, { onNotice: (m) => notices.push(m) });
    expect(notices).toHaveLength(1);
    again.close();
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  test("a workqueue.sqlite that is not a reference queue is left alone", () => {
    writeFileSync(`${dir}/workqueue.sqlite`, "not a database");
    const notices: string[] = [];
    openStateDatabase(dir, { onNotice: (m) => notices.push(m) }).close();
    expect(notices).toEqual([]);
    expect(readFileSync(`${dir}/workqueue.sqlite`, "utf8")).toBe("not a database");
  });

  test("an available_at column of the reference wins over lease_expires_at", () => {
    const path = `${dir}/ref2.sqlite`;
    writeReference(path, true);
    const raw = new Database(path);
    raw.run("UPDATE jobs SET available_at = '2031-05-05T00:00:00Z' WHERE id = 2");
    raw.close();
    const db = openDatabase(path);
    expect(db.query("SELECT available_at FROM jobs WHERE id = 2").get()).toEqual({
      available_at: Date.parse("2031-05-05T00:00:00Z"),
    });
    db.close();
  });
});

test("processes opening a fresh file at once apply each migration exactly once", async () => {
  const path = `${dir}/fresh/queue.db`;
  const child = new URL("../support/queue-child.ts", import.meta.url).pathname;
  const procs = [0, 1, 2, 3].map((i) =>
    Bun.spawn([process.execPath, child, "work", path, `opener${i}`], { stdout: "pipe", stderr: "pipe" }),
  );
  const codes = await Promise.all(procs.map((p) => p.exited));
  const errors = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
  expect([codes, errors]).toEqual([
    [0, 0, 0, 0],
    ["", "", "", ""],
  ]);
  const db = openDatabase(path);
  expect(
    db.query("SELECT version, count(*) AS n FROM schema_version GROUP BY version HAVING n > 1").all(),
  ).toEqual([]);
  expect(schemaVersion(db)).toBe(MIGRATIONS.length);
  db.close();
});
