// `docstokg state migrate|copy` and `docstokg queue prune` as a user runs them (`bun src/main.ts …` in
// a subprocess), on SQLite state directories and a throwaway PostgreSQL cluster: versions printed,
// newer databases refused, a SQLite state copied, resumed, repeated and verified, old attempts pruned.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { SQL } from "bun";
import { openStateDatabase } from "../../src/store/db.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { LATEST_POSTGRES_VERSION } from "../../src/store/postgres/migrations.ts";
import { PostgresJobQueue } from "../../src/store/postgres/queue.ts";
import { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import type { AckInput } from "../../src/store/types.ts";
import { startTestPostgres } from "../support/postgres.ts";
import { tempDir } from "../support/temp.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const SQLITE_LATEST = Math.max(...MIGRATIONS.map((m) => m.version));
const POLICY = { leaseTtlMs: 60_000, maxAttempts: 3, backoff: { baseMs: 1000, capMs: 60_000 } };
const DAY = 86_400_000;

const pg = await startTestPostgres();
afterAll(async () => {
  await pg?.stop();
}, 60_000); // stopping a cluster can take a while on a loaded machine

let dir: string;
let state: string;
beforeEach(() => {
  dir = tempDir("cli-state");
  state = `${dir}/state`;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args, "--state-dir", state], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", DOCSTOKG_CONFIG: "", DOCSTOKG_DATABASE_URL: "", ...env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

function must<T>(x: T | null | undefined): T {
  if (x === null || x === undefined) throw new Error("expected a value");
  return x;
}

function doneWith(n: number, attemptAt: number): AckInput {
  return {
    state: "done",
    reason: "ok",
    sha256: `${n}`.padStart(64, "0"),
    bytes: n,
    path: `pdf/${n}.pdf`,
    attempts: [
      {
        role: "artifact",
        url: `https://example.org/${n}`,
        host: "example.org",
        httpStatus: 200,
        at: attemptAt,
      },
    ],
    stored: {
      url: `https://example.org/${n}.pdf`,
      sha256: `${n}`.padStart(64, "0"),
      path: `pdf/${n}.pdf`,
      bytes: n,
      kind: "pdf",
    },
  };
}

/** A SQLite state: `n` jobs, the first half done (old attempts), a quarter failed, the rest queued; paused. */
async function seedSqlite(n: number): Promise<void> {
  const db = openStateDatabase(state);
  const q = new SqliteJobQueue(db, POLICY, { now: Date.now });
  await q.enqueue(Array.from({ length: n }, (_, i) => ({ id: `doi:10.1000/${i}`, doi: `10.1000/${i}` })));
  const jobs = await q.lease("w", Math.floor((n * 3) / 4));
  for (const [i, j] of jobs.entries()) {
    if (i < n / 2) await q.ack(j.id, j.token, doneWith(i, Date.now() - 10 * DAY));
    else
      await q.fail(j.id, j.token, {
        reason: "not_found",
        transient: false,
        attempts: [{ url: "https://example.org/x", httpStatus: 404, at: Date.now() - 10 * DAY }],
      });
  }
  await q.pause();
  db.close();
}

describe("state migrate", () => {
  test("SQLite: migrates a new state directory, then has nothing to apply; a newer database is refused", async () => {
    const first = await cli(["state", "migrate"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`migrated from schema version 0 to ${SQLITE_LATEST}`);
    const again = await cli(["state", "migrate"]);
    expect(again.stdout).toContain(`at schema version ${SQLITE_LATEST} (nothing to apply)`);
    const db = openStateDatabase(state);
    db.run("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)");
    db.close();
    const newer = await cli(["state", "migrate"]);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toContain("schema version 999");
  });

  test.skipIf(pg === null)(
    "PostgreSQL: versions printed; a newer database refused unless its migrations allow older programs",
    async () => {
      const url = await must(pg).createDatabase("cli_migrate");
      const first = await cli(["state", "migrate", "--database-url", url]);
      expect(first.stderr).toBe("");
      expect(first.stdout).toContain(`migrated from schema version 0 to ${LATEST_POSTGRES_VERSION}`);
      const again = await cli(["state", "migrate"], { DOCSTOKG_DATABASE_URL: url });
      expect(again.stdout).toContain(`at schema version ${LATEST_POSTGRES_VERSION} (nothing to apply)`);
      const sql = new SQL({ url, max: 1 });
      await sql`INSERT INTO schema_version (version, name) VALUES (${LATEST_POSTGRES_VERSION + 1}, 'future')`;
      const refused = await cli(["state", "migrate", "--database-url", url]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("newer than this docstokg knows");
      const prune = await cli(["queue", "prune", "--attempts-older-than", "1d", "--database-url", url]);
      expect(prune.code).toBe(2);
      // A rolling upgrade: the newer migration says older programs may keep working.
      await sql`UPDATE schema_version SET older_programs_ok = true WHERE version = ${LATEST_POSTGRES_VERSION + 1}`;
      const allowed = await cli(["state", "migrate", "--database-url", url]);
      expect(allowed.code).toBe(0);
      expect(allowed.stdout).toContain("which the migrations since allow");
      await sql.close();
    },
  );
});

describe.skipIf(pg === null)("state copy", () => {
  test("copies a SQLite state into PostgreSQL, verified; a repeat copies nothing; an interrupted copy resumes", async () => {
    await seedSqlite(400);
    const url = await must(pg).createDatabase("cli_copy");
    const first = await cli(["state", "copy", "--to", url, "--batch", "64"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/jobs\s+400\s+400\s+400/);
    expect(first.stdout).toMatch(/outcomes\s+300\s+300\s+300/);
    expect(first.stdout).toMatch(/attempts\s+300\s+300\s+300/);
    expect(first.stdout).toMatch(/stored_urls\s+200\s+200\s+200/);
    expect(first.stdout).toContain("verified");

    // The copy is the same queue: same jobs, outcomes and attempts, paused, and new ids continue after the copied ones.
    const db = openStateDatabase(state);
    const lite = new SqliteJobQueue(db, POLICY, { now: Date.now });
    const sql = new SQL({ url, max: 2 });
    const copy = new PostgresJobQueue(sql, POLICY);
    for (const id of ["doi:10.1000/0", "doi:10.1000/250", "doi:10.1000/399"]) {
      expect(await copy.show(id)).toEqual(await lite.show(id));
    }
    expect(await copy.isPaused()).toBe(true);
    expect((await copy.stats()).counts).toEqual((await lite.stats()).counts);
    await copy.enqueue([{ id: "doi:10.1000/new" }]);
    expect(must(await copy.show("doi:10.1000/new")).job.id).toBe(401);
    db.close();
    // Rows the SQLite state does not have make the counts differ: an error, not a silent pass.
    const extra = await cli(["state", "copy", "--to", url]);
    expect(extra.code).toBe(1);
    expect(extra.stderr).toContain("row counts differ in jobs");
    await sql`DELETE FROM jobs WHERE artifact_id = 'doi:10.1000/new'`;

    writeFileSync(`${dir}/url`, `${url}\n`);
    const repeat = await cli(["state", "copy", "--to-file", `${dir}/url`]);
    expect(repeat.code).toBe(0);
    expect(repeat.stdout).toMatch(/outcomes\s+300\s+300\s+0\b/);

    // Interrupted: the later part of the copy is missing. Run again: it resumes and verifies.
    await sql`DELETE FROM jobs WHERE id > 250`;
    const resumed = await cli(["state", "copy", "--to", url, "--batch", "50"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/jobs\s+400\s+400\s+150/);
    expect(resumed.stdout).toContain("verified");

    // A copy that does not match (changed afterwards) is an error.
    await sql`UPDATE outcomes SET reason = 'tampered'`;
    const tampered = await cli(["state", "copy", "--to", url]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain("sampled rows differ (outcomes");
    await sql.close();
  }, 60_000);

  test("--to must be a PostgreSQL URL, given once", async () => {
    const r = await cli(["state", "copy", "--to", "mysql://x/y"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--to: expected a postgres://");
    const none = await cli(["state", "copy"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--to URL or --to-file FILE");
  });
});

describe("queue prune", () => {
  test("SQLite: deletes old attempts of done/skipped jobs only; outcomes stay", async () => {
    await seedSqlite(40);
    const db0 = openStateDatabase(state);
    // A job in progress with old attempts keeps them.
    const q = new SqliteJobQueue(db0, POLICY, { now: Date.now });
    await q.resume();
    const [held] = await q.lease("w", 1);
    await q.recordAttempts(must(held).id, must(held).token, [
      { url: "https://example.org/h", at: Date.now() - 9 * DAY },
    ]);
    db0.close();

    const bad = await cli(["queue", "prune", "--attempts-older-than", "90"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--attempts-older-than: expected a duration");
    const badState = await cli(["queue", "prune", "--attempts-older-than", "1d", "--state", "queued"]);
    expect(badState.code).toBe(2);

    const none = await cli(["queue", "prune", "--attempts-older-than", "30d"]);
    expect(none.stdout).toContain("deleted 0 attempt rows");
    const r = await cli(["queue", "prune", "--attempts-older-than", "7d", "--batch", "7"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("deleted 20 attempt rows");
    const db = openStateDatabase(state);
    const count = (s: string) => (db.query(s).get() as { n: number }).n;
    expect(
      count("SELECT count(*) AS n FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.state = 'done'"),
    ).toBe(0);
    expect(
      count("SELECT count(*) AS n FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.state = 'error'"),
    ).toBe(10);
    expect(
      count(
        "SELECT count(*) AS n FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.state = 'in_progress'",
      ),
    ).toBe(1);
    expect(count("SELECT count(*) AS n FROM outcomes")).toBe(30);
    db.close();
    const errors = await cli(["queue", "prune", "--attempts-older-than", "7d", "--state", "error"]);
    expect(errors.stdout).toContain("deleted 10 attempt rows");
  });

  test.skipIf(pg === null)(
    "PostgreSQL: the same, by the database clock, in batches",
    async () => {
      await seedSqlite(40);
      const url = await must(pg).createDatabase("cli_prune");
      expect((await cli(["state", "copy", "--to", url])).code).toBe(0);
      const r = await cli([
        "queue",
        "prune",
        "--attempts-older-than",
        "7d",
        "--batch",
        "3",
        "--database-url",
        url,
      ]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("deleted 20 attempt rows");
      const sql = new SQL({ url, max: 1 });
      const [c] = await sql<{ done: string; error: string; outcomes: string }[]>`
      SELECT (SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.state = 'done') AS done,
             (SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.state = 'error') AS error,
             (SELECT count(*) FROM outcomes) AS outcomes`;
      expect([Number(c?.done), Number(c?.error), Number(c?.outcomes)]).toEqual([0, 10, 30]);
      await sql.close();
    },
    30_000,
  );
});
