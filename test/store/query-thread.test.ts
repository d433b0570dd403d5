// Counts over the whole queue on a thread of their own: the same answers as on the serving thread,
// and the serving thread keeps running while a long count is under way.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db.ts";
import { queueStats, statsFromRows, statsQueries } from "../../src/store/jobs/stats.ts";
import { QueryThread, queryThreadFor } from "../../src/store/query-thread.ts";
import { emptyDir } from "../support/binary.ts";

const dir = emptyDir("docstokg-query-thread-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function filled(name: string) {
  const db = openDatabase(join(dir, name));
  const now = Date.now();
  db.query(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
     INSERT INTO jobs (artifact_id, artifact, state, available_at, created_at, updated_at, last_reason)
     SELECT 'doi:10.1/' || i, '{}', CASE i % 4 WHEN 0 THEN 'error' WHEN 1 THEN 'queued' ELSE 'done' END,
            ?1 + (i % 3) * 60000, ?1, ?1, CASE i % 4 WHEN 0 THEN 'not_found' END FROM n`,
  ).run(now);
  return { db, now };
}

describe("QueryThread", () => {
  test("queue stats counted on the thread equal the ones counted here", async () => {
    const { db, now } = filled("stats.db");
    const thread = queryThreadFor(db);
    if (!thread) throw new Error("a file database has a thread");
    try {
      const rows = await thread.run(statsQueries(now));
      expect(statsFromRows(rows as never, now)).toEqual(queueStats(db, now));
      expect(queueStats(db, now).counts).toMatchObject({ error: 125, done: 250, queued: 125 });
    } finally {
      thread.close();
      db.close();
    }
  });

  test("an in-memory database has none; a bad statement rejects without killing the thread", async () => {
    const mem = openDatabase(":memory:");
    expect(queryThreadFor(mem)).toBeUndefined();
    mem.close();
    const { db } = filled("errors.db");
    const thread = new QueryThread(join(dir, "errors.db"));
    try {
      await expect(thread.run([{ sql: "SELECT nope FROM nowhere" }])).rejects.toThrow(/no such table/);
      expect(await thread.run([{ sql: "SELECT count(*) AS n FROM jobs" }])).toEqual([[{ n: 500 }]]);
    } finally {
      thread.close();
      db.close();
    }
  });

  test("the serving thread keeps its timers while a long count runs on the thread", async () => {
    const { db } = filled("slow.db");
    const thread = new QueryThread(join(dir, "slow.db"));
    try {
      // Long enough to be seen (hundreds of ms of CPU), pure computation on the thread.
      const slow = thread.run([
        {
          sql: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) AS n FROM n",
        },
      ]);
      let worstLag = 0;
      let done = false;
      slow.then(() => {
        done = true;
      });
      const started = performance.now();
      while (!done) {
        const t = performance.now();
        await Bun.sleep(10);
        worstLag = Math.max(worstLag, performance.now() - t - 10);
      }
      const took = performance.now() - started;
      expect(await slow).toEqual([[{ n: 3_000_000 }]]);
      // Had the count run here, one timer would have waited for all of it.
      expect(took).toBeGreaterThan(100);
      expect(worstLag).toBeLessThan(Math.max(50, took / 3));
    } finally {
      thread.close();
      db.close();
    }
  });
});
