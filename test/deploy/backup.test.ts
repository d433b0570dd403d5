// The README's backup advice, exercised: while the queue database is being written (enqueue, lease,
// ack in short transactions, as runners do), `sqlite3 queue.db ".backup …"` and `VACUUM INTO` give
// files that pass an integrity check, open with docstokg at the current schema, and hold a
// consistent snapshot (every done job has its outcome).

import type { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/schema.ts";
import { openDatabase, openStateDatabase, schemaVersion } from "../../src/store/db.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { queuePolicy, SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { tempDir } from "../support/temp.ts";

const sqlite3 = Bun.which("sqlite3");
if (!sqlite3)
  console.warn(
    "\n*** SKIPPING the online backup test: the sqlite3 command is not installed (apt-get install sqlite3). ***\n",
  );

let root: string;
let db: Database;
let queue: SqliteJobQueue;
beforeAll(() => {
  root = tempDir("backup");
  db = openStateDatabase(join(root, "state"));
  queue = new SqliteJobQueue(db, queuePolicy(defaultConfig().queue), { now: Date.now });
});
afterAll(() => {
  db.close();
  rmSync(root, { recursive: true, force: true });
});

/** Keeps writing like a runner until stopped: enqueue a batch, lease it, ack every job with an outcome. */
function startWriter(): { stop: () => Promise<number> } {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const batch = Array.from({ length: 20 }, () => ({ id: `doi:10.1/w${n++}` }));
      await queue.enqueue(batch);
      for (const job of await queue.lease("writer", 20)) {
        await queue.ack(job.id, job.token, {
          state: "done",
          reason: "ok",
          sha256: "a".repeat(64),
          bytes: 1,
          attempts: [{ resolver: "direct", host: "h.example", httpStatus: 200, rateWaitMs: 0 }],
        });
      }
      await new Promise((r) => setImmediate(r));
    }
    return n;
  })();
  return {
    stop: async () => {
      running = false;
      return loop;
    },
  };
}

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  return { code, err };
}

function checkCopy(path: string): void {
  const copy = openDatabase(path, { readonly: true });
  try {
    expect(copy.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    expect(schemaVersion(copy)).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
    const jobs = copy.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs").get()?.n ?? 0;
    expect(jobs).toBeGreaterThan(0);
    // A consistent snapshot: no done job without its outcome, no outcome without its job.
    const orphans = copy
      .query<{ n: number }, []>(
        `SELECT (SELECT count(*) FROM jobs j WHERE j.state = 'done' AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.job_id = j.id))
              + (SELECT count(*) FROM outcomes o WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = o.job_id)) AS n`,
      )
      .get()?.n;
    expect(orphans).toBe(0);
  } finally {
    copy.close();
  }
}

describe.skipIf(!sqlite3)("online backup while writing", () => {
  test('sqlite3 ".backup" and VACUUM INTO give consistent, current copies', async () => {
    const writer = startWriter();
    await Bun.sleep(100);
    const live = join(root, "state", "queue.db");
    const backup = join(root, "backup.db");
    const vacuumed = join(root, "vacuumed.db");
    const b = await run([sqlite3 ?? "sqlite3", live, `.backup '${backup}'`]);
    const v = await run([sqlite3 ?? "sqlite3", live, `VACUUM INTO '${vacuumed}'`]);
    const written = await writer.stop();
    expect(b).toEqual({ code: 0, err: "" });
    expect(v).toEqual({ code: 0, err: "" });
    expect(written).toBeGreaterThan(20);
    checkCopy(backup);
    checkCopy(vacuumed);
  }, 30_000);
});
