// The default objectives against runs simulated through the real politeness gate (default settings,
// a fake clock): a healthy polite run, whose metadata requests queue behind each other at the
// configured rates, passes every objective; a 429 storm, whose hosts impose cool-downs, fails.
import type { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { Politeness } from "../../src/politeness/politeness.ts";
import { openStateDatabase } from "../../src/store/db.ts";
import { buildReport } from "../../src/telemetry/report.ts";
import { FakeClock } from "../politeness/fake-clock.ts";
import { tempDir } from "../support/temp.ts";

const config = v.parse(ConfigSchema, {});
const API = "api.example";
const WORKS = 20;
const REQUESTS_PER_WORK = 3;

const dirs: string[] = [];
const dbs: Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * 16 workers (orchestrator default) each take works and send their metadata requests one after the
 * other through one gate, 50 ms per answer; `status(n)` is what the API answers to the n-th request.
 * Each request that went out is recorded as the runner records it. Answers the state database.
 */
async function simulateRun(status: (n: number) => number): Promise<Database> {
  const dir = tempDir("objectives");
  dirs.push(dir);
  const db = openStateDatabase(join(dir, "state"));
  dbs.push(db);
  db.run(
    `INSERT INTO jobs (id, artifact_id, artifact, state, available_at, created_at, updated_at, attempts)
     VALUES (1, 'doi:10.1/x', '{"id":"doi:10.1/x"}', 'done', 0, 0, 0, 1)`,
  );
  const clock = new FakeClock();
  const p = new Politeness({
    db,
    config,
    now: clock.now,
    sleep: clock.sleep,
    setTimer: clock.setTimeout,
    renewEveryMs: 0,
  });
  const insert = db.query(
    `INSERT INTO attempts (job_id, resolver, host, role, http_status, reason, rate_wait_ms, held_back_ms, at)
     VALUES (1, 'unpaywall', ?1, 'metadata', ?2, ?3, ?4, ?5, ?6)`,
  );
  let next = 0;
  let sent = 0;
  let refused = 0;
  const worker = async () => {
    while (next < WORKS) {
      next++;
      for (let i = 0; i < REQUESTS_PER_WORK; i++) {
        const permit = await p.acquire({
          host: API,
          role: "metadata",
          resolver: "unpaywall",
          maxWaitMs: config.politeness.max_wait_s * 1000,
        });
        if (!permit.ok) {
          refused++; // handed back to the queue: no request, no attempt row
          continue;
        }
        await clock.sleep(50);
        const answer = status(++sent);
        p.observe(API, { status: answer, retryAfterMs: answer === 429 ? 2000 : undefined, role: "metadata" });
        permit.release();
        insert.run(
          API,
          answer,
          answer === 429 ? "rate_limited" : null,
          permit.waitedMs,
          permit.heldBackMs ?? 0,
          clock.t,
        );
      }
    }
  };
  const workers = Promise.all(Array.from({ length: config.orchestrator.max_workers }, worker));
  let done = false;
  workers.then(() => {
    done = true;
  });
  for (let guard = 0; !done && guard < 100_000; guard++) await clock.advance(10);
  expect(done).toBe(true);
  expect(sent + refused).toBe(WORKS * REQUESTS_PER_WORK);
  return db;
}

const objectives = config.telemetry.objectives;
const statusOf = (db: Database) =>
  Object.fromEntries(buildReport(db, { objectives, now: () => 0 }).objectives.map((o) => [o.name, o.status]));

test("a healthy polite run passes every default objective, though its requests wait for the pacing", async () => {
  const db = await simulateRun(() => 200);
  const r = buildReport(db, { objectives, now: () => 0 });
  // The metadata requests did queue at 10/s behind 16 workers: far beyond 250 ms at p95 ...
  expect(r.rate_wait_ms.metadata.count).toBe(WORKS * REQUESTS_PER_WORK);
  expect(r.rate_wait_ms.metadata.p95 ?? 0).toBeGreaterThan(objectives.max_metadata_rate_wait_p95_ms);
  // ... all of it pacing: no host held them back.
  expect(r.held_back_ms.metadata).toMatchObject({ p95: 0 });
  expect(statusOf(db)).toEqual({
    corruption: "unmeasured",
    "429_ratio": "met",
    metadata_rate_wait_p95: "met",
  });
  expect(r.ok).toBe(true);
});

test("a 429 storm fails: the host's 429 ratio and the waits in the cool-downs it imposed", async () => {
  // Every fourth answer is a 429 with Retry-After: 2 s.
  const db = await simulateRun((n) => (n % 4 === 0 ? 429 : 200));
  const r = buildReport(db, { objectives, now: () => 0 });
  expect(r.held_back_ms.metadata.p95 ?? 0).toBeGreaterThan(objectives.max_metadata_rate_wait_p95_ms);
  expect(statusOf(db)).toEqual({
    corruption: "unmeasured",
    "429_ratio": "violated",
    metadata_rate_wait_p95: "violated",
  });
  expect(r.ok).toBe(false);
});
