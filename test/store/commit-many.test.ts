// SQLite specifics of group commit: a batch that cannot commit as a whole (the write lock held
// elsewhere past the busy timeout) fails every caller and changes nothing, and can simply be retried.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { CommitBatcher } from "../../src/store/commit-batcher.ts";
import { openDatabase } from "../../src/store/db.ts";
import { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { tempDir } from "../support/temp.ts";

const POLICY = { leaseTtlMs: 60_000, maxAttempts: 3, backoff: { baseMs: 1000, capMs: 60_000 } };
let dir: string;
beforeEach(() => {
  dir = tempDir("commit-many");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("a batch that cannot take the write lock rejects every caller and changes nothing", async () => {
  const db = openDatabase(`${dir}/queue.db`);
  const queue = new SqliteJobQueue(db, POLICY, { now: () => 1_000 });
  await queue.enqueue([{ id: "job:1" }, { id: "job:2" }]);
  const jobs = await queue.lease("w", 2);
  db.run("PRAGMA busy_timeout = 0");
  const other = new Database(`${dir}/queue.db`);
  other.run("BEGIN IMMEDIATE");

  const batcher = new CommitBatcher(queue);
  const pending = jobs.map((j) => batcher.ack(j.id, j.token, { state: "done", reason: "ok" }));
  const settled = await Promise.allSettled(pending);
  expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
  for (const s of settled) expect(String((s as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
  other.run("ROLLBACK");
  other.close();
  expect((await queue.stats()).counts).toMatchObject({ in_progress: 2, done: 0 });
  expect(db.query("SELECT count(*) AS n FROM outcomes").get()).toEqual({ n: 0 });

  // Nothing took effect, so the same commits succeed once the lock is free.
  const again = await Promise.all(
    jobs.map((j) => batcher.ack(j.id, j.token, { state: "done", reason: "ok" })),
  );
  expect(again).toEqual([true, true]);
  await batcher.close();
  db.close();
});

test("group commit works inside a transaction the caller already holds", async () => {
  const db = openDatabase(`${dir}/queue.db`);
  const queue = new SqliteJobQueue(db, POLICY, { now: () => 1_000 });
  await queue.enqueue([{ id: "job:1" }, { id: "job:2" }]);
  const [a, b] = await queue.lease("w", 2);
  if (!a || !b) throw new Error("no jobs");
  let results: unknown;
  db.transaction(() => {
    results = queue.commitMany([
      { kind: "ack", jobId: a.id, token: a.token, outcome: { state: "done", reason: "ok" } },
      {
        kind: "ack",
        jobId: b.id,
        token: b.token,
        outcome: {
          state: "done",
          reason: "ok",
          attempts: [{ url: new URL("https://x.example/") as unknown as string }],
        },
      },
    ]);
  }).immediate();
  const [ra, rb] = (await results) as { ok: boolean }[];
  expect(ra?.ok).toBe(true);
  expect(rb?.ok).toBe(false);
  expect((await queue.show(a.id))?.job.state).toBe("done");
  expect((await queue.show(b.id))?.job.state).toBe("in_progress");
  db.close();
});
