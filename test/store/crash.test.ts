// kill -9 in the middle of an import and of a lease/ack loop: the database stays consistent
// (integrity_check ok), no job is lost or duplicated, every transaction is all or nothing.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { CommitBatcher } from "../../src/store/commit-batcher.ts";
import { openDatabase } from "../../src/store/db.ts";
import { importStream } from "../../src/store/import.ts";
import { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { tempDir } from "../support/temp.ts";

const CHILD = new URL("../support/queue-child.ts", import.meta.url).pathname;
let dir: string;
beforeEach(() => {
  dir = tempDir("crash");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Start the child and SIGKILL it once a line of its output satisfies `when`. */
async function killWhen(args: string[], when: (line: string) => boolean): Promise<string[]> {
  const child = Bun.spawn([process.execPath, CHILD, ...args], { stdout: "pipe", stderr: "inherit" });
  const seen: string[] = [];
  const decoder = new TextDecoder();
  let buffered = "";
  const reader = child.stdout.getReader();
  outer: for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      seen.push(line);
      if (when(line)) {
        child.kill("SIGKILL");
        break outer;
      }
      nl = buffered.indexOf("\n");
    }
  }
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  return seen;
}

function integrity(path: string): string {
  const db = openDatabase(path);
  const r = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check ?? "";
  db.close();
  return r;
}

const POLICY = { leaseTtlMs: 60_000, maxAttempts: 3, backoff: { baseMs: 0, capMs: 0 } };

test("kill -9 during an import keeps whole batches only; importing again completes it exactly", async () => {
  const total = 60_000;
  const input = `${dir}/works.txt`;
  writeFileSync(input, `${Array.from({ length: total }, (_, i) => `10.4242/${i}`).join("\n")}\n`);
  const db = `${dir}/queue.db`;
  const printed = await killWhen(
    ["import", db, input],
    (line) => /committed (\d+)/.test(line) && Number(line.split(" ")[1]) >= 5000,
  );
  const lastReported = Number(printed.at(-1)?.split(" ")[1]);
  expect(integrity(db)).toBe("ok");
  const conn = openDatabase(db);
  const queue = new SqliteJobQueue(conn, POLICY, { now: Date.now });
  const afterCrash = (await queue.stats()).total;
  expect(afterCrash).toBeGreaterThanOrEqual(lastReported);
  expect(afterCrash).toBeLessThan(total);
  // Batches commit whole or not at all, in input order: what is there is exactly a prefix of the file.
  const outOfPlace = conn
    .query<{ n: number }, []>(
      "SELECT count(*) AS n FROM jobs WHERE artifact_id <> 'doi:10.4242/' || (id - 1)",
    )
    .get();
  expect(outOfPlace?.n).toBe(0);
  const again = await importStream(queue, Bun.file(input).stream(), {
    format: "auto",
    rejectsPath: `${input}.rejects`,
  });
  expect(again).toMatchObject({ added: total - afterCrash, duplicate: afterCrash, invalid: 0 });
  expect((await queue.stats()).total).toBe(total);
  conn.close();
});

test("kill -9 during a lease/ack loop: nothing lost, nothing acked twice, the stale leases come back", async () => {
  const db = `${dir}/queue.db`;
  const setup = openDatabase(db);
  const total = 4000;
  const queue = new SqliteJobQueue(setup, POLICY, { now: Date.now });
  await queue.enqueue(Array.from({ length: total }, (_, i) => ({ id: `job:${i}` })));
  setup.close();

  await killWhen(
    ["work", db, "doomed"],
    (line) => /processed (\d+)/.test(line) && Number(line.split(" ")[1]) >= 600,
  );
  expect(integrity(db)).toBe("ok");

  const conn = openDatabase(db);
  let clock = Date.now();
  const survivor = new SqliteJobQueue(conn, POLICY, { now: () => clock });
  const mid = await survivor.stats();
  expect(mid.total).toBe(total);
  expect(mid.counts.done).toBeGreaterThan(0);
  const consistent = conn
    .query<{ bad: number }, []>(
      `SELECT
         (SELECT count(*) FROM jobs WHERE state = 'done') - (SELECT count(DISTINCT job_id) FROM outcomes) +
         (SELECT count(*) FROM (SELECT job_id FROM outcomes GROUP BY job_id HAVING count(*) > 1)) +
         (SELECT count(*) FROM jobs WHERE state = 'in_progress' AND lease_token IS NULL) +
         (SELECT count(*) FROM jobs j WHERE state = 'done' AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = j.id))
       AS bad`,
    )
    .get();
  expect(consistent?.bad).toBe(0);

  // After the dead runner's leases expire, a survivor finishes everything; each job ends exactly once.
  clock += POLICY.leaseTtlMs;
  for (;;) {
    const jobs = await survivor.lease("survivor", 256);
    if (jobs.length === 0) break;
    for (const job of jobs)
      expect(await survivor.ack(job.id, job.token, { state: "done", reason: "ok" })).toBe(true);
  }
  const end = await survivor.stats();
  expect(end.counts.done).toBe(total);
  expect(conn.query("SELECT count(*) AS n, count(DISTINCT job_id) AS d FROM outcomes").get()).toEqual({
    n: total,
    d: total,
  });
  conn.close();
});

test("three processes working one file: every job ends exactly once, no call is ever refused", async () => {
  const db = `${dir}/queue.db`;
  const setup = openDatabase(db);
  const total = 3000;
  await new SqliteJobQueue(setup, POLICY, { now: Date.now }).enqueue(
    Array.from({ length: total }, (_, i) => ({ id: `job:${i}` })),
  );
  setup.close();
  const children = [0, 1, 2].map((i) =>
    Bun.spawn([process.execPath, CHILD, "work", db, `w${i}`], { stdout: "pipe", stderr: "inherit" }),
  );
  const outputs = await Promise.all(children.map((c) => new Response(c.stdout).text()));
  const codes = await Promise.all(children.map((c) => c.exited));
  expect(codes).toEqual([0, 0, 0]);
  const finals = outputs.map((o) => o.trim().split("\n").at(-1) ?? "");
  for (const line of finals) expect(line).toMatch(/^finished \d+ refused 0$/);
  // Every process took part.
  for (const line of finals) expect(Number(line.split(" ")[1])).toBeGreaterThan(0);
  const conn = openDatabase(db);
  const s = await new SqliteJobQueue(conn, POLICY, { now: Date.now }).stats();
  expect(s.counts.queued + s.counts.in_progress).toBe(0);
  expect(s.counts.done + s.counts.error).toBe(total);
  expect(conn.query("SELECT count(*) AS n, count(DISTINCT job_id) AS d FROM outcomes").get()).toEqual({
    n: total,
    d: total,
  });
  conn.close();
});

test("kill -9 during group-committed acks: every job is acked with its outcome or still leased, never half", async () => {
  const db = `${dir}/queue.db`;
  const setup = openDatabase(db);
  const total = 20_000;
  await new SqliteJobQueue(setup, POLICY, { now: Date.now }).enqueue(
    Array.from({ length: total }, (_, i) => ({ id: `job:${i}` })),
  );
  setup.close();

  const printed = await killWhen(
    ["batch", db, "doomed"],
    // Killed right after a transaction of acks, while the next ones of the same lease are being
    // written (transactions carry 64 acks and a lease 256: 2112 is not at a lease boundary).
    (line) => /^committed (\d+)$/.test(line) && Number(line.split(" ")[1]) >= 2100,
  );
  const reported = Number(printed.at(-1)?.split(" ")[1]);
  expect(integrity(db)).toBe("ok");

  const conn = openDatabase(db);
  const rows = conn
    .query<{ state: string; n: number }, []>(
      `SELECT CASE
         WHEN state = 'done' AND outcomes = 1 AND good_sha = 1 AND attempts = 1 AND lease_token IS NULL
           THEN 'acked whole'
         WHEN state = 'in_progress' AND lease_token IS NOT NULL AND outcomes = 0 AND attempts = 0
           THEN 'still leased'
         WHEN state = 'queued' AND lease_token IS NULL AND outcomes = 0 AND attempts = 0 THEN 'never leased'
         ELSE 'half' END AS state, count(*) AS n
       FROM (SELECT j.state, j.lease_token,
               (SELECT count(*) FROM outcomes o WHERE o.job_id = j.id) AS outcomes,
               (SELECT count(*) FROM outcomes o WHERE o.job_id = j.id AND o.sha256 = printf('%064d', j.id)) AS good_sha,
               (SELECT count(*) FROM attempts a WHERE a.job_id = j.id) AS attempts
             FROM jobs j)
       GROUP BY 1`,
    )
    .all();
  const by = Object.fromEntries(rows.map((r) => [r.state, r.n]));
  expect(by.half).toBeUndefined();
  // Every ack the child saw committed survived the kill, and the kill did land mid-run.
  expect(by["acked whole"]).toBeGreaterThanOrEqual(reported);
  expect(by["acked whole"]).toBeLessThan(total);
  expect((by["acked whole"] ?? 0) + (by["still leased"] ?? 0) + (by["never leased"] ?? 0)).toBe(total);

  // After the dead runner's leases expire, a survivor finishes the rest through the batcher.
  let clock = Date.now() + POLICY.leaseTtlMs;
  const survivor = new SqliteJobQueue(conn, POLICY, { now: () => clock });
  const batcher = new CommitBatcher(survivor);
  for (;;) {
    const jobs = await survivor.lease("survivor", 256);
    if (jobs.length === 0) break;
    const ok = await Promise.all(
      jobs.map((j) => batcher.ack(j.id, j.token, { state: "done", reason: "ok" })),
    );
    expect(ok.every(Boolean)).toBe(true);
    clock += 1;
  }
  await batcher.close();
  expect((await survivor.stats()).counts.done).toBe(total);
  expect(conn.query("SELECT count(*) AS n, count(DISTINCT job_id) AS d FROM outcomes").get()).toEqual({
    n: total,
    d: total,
  });
  conn.close();
});

test("two processes group-committing on one file: every job acked exactly once, none refused", async () => {
  const db = `${dir}/queue.db`;
  const setup = openDatabase(db);
  const total = 6000;
  await new SqliteJobQueue(setup, POLICY, { now: Date.now }).enqueue(
    Array.from({ length: total }, (_, i) => ({ id: `job:${i}` })),
  );
  setup.close();
  const children = [0, 1].map((i) =>
    Bun.spawn([process.execPath, CHILD, "batch", db, `b${i}`], { stdout: "pipe", stderr: "inherit" }),
  );
  const outputs = await Promise.all(children.map((c) => new Response(c.stdout).text()));
  expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0]);
  const finished = outputs.map((o) => Number(/^finished (\d+)$/m.exec(o)?.[1]));
  // Every ack was true (no lease was lost or shared) and together they cover every job.
  expect(finished.reduce((a, b) => a + b, 0)).toBe(total);
  const conn = openDatabase(db);
  expect(conn.query("SELECT count(*) AS n, count(DISTINCT job_id) AS d FROM outcomes").get()).toEqual({
    n: total,
    d: total,
  });
  expect(conn.query("SELECT count(*) AS n FROM jobs WHERE state = 'done'").get()).toEqual({ n: total });
  conn.close();
});
