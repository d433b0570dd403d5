// The orchestrator and the disk-space gate over the real SQLite queue (no mount needed): a step that
// meets a full disk is released without an attempt, the leased-but-unstarted jobs go back, nothing
// is leased or started while the gate is closed, and everything finishes once it opens.
import type { Database } from "bun:sqlite";
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Orchestrator } from "../../src/runner/orchestrator.ts";
import type { JobStep, StepResult } from "../../src/runner/step.ts";
import type { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { FIXED_CLOCK, memoryQueue } from "../support/memory-queue.ts";

let db: Database;
let queue: SqliteJobQueue;
const clock = FIXED_CLOCK;

beforeEach(() => {
  ({ db, queue } = memoryQueue());
});
afterEach(() => db.close());

test("a full disk: released uncounted, backlog handed back, no leasing until space returns", async () => {
  await queue.enqueue(Array.from({ length: 6 }, (_, i) => ({ id: `doi:10.1/${i}` })));
  let open = true;
  let checksWhileClosed = 0;
  const space = {
    ready: () => {
      if (!open) checksWhileClosed++;
      return open;
    },
  };
  const started: string[] = [];
  let leasesWhileClosed = 0;
  const lease = queue.lease.bind(queue);
  queue.lease = async (owner, n) => {
    if (!open) leasesWhileClosed++;
    return lease(owner, n);
  };
  const step: JobStep = async (job): Promise<StepResult> => {
    started.push(job.artifactId);
    if (started.length === 1) {
      open = false; // what the job step does on ENOSPC: reportFull() closes the gate
      return {
        ok: false,
        reason: "disk_full",
        transient: true,
        message: "no space left",
        retryAt: clock,
        deferred: false,
        attempts: [{ reason: "disk_full", host: "h.example" }],
      };
    }
    return { ok: true, reason: "ok", detail: { sha256: "00", bytes: 1 }, attempts: [] };
  };
  const orchestrator = new Orchestrator({
    queue,
    owner: "test",
    step,
    maxWorkers: 1,
    leaseBatch: 6,
    heartbeatMs: 60_000,
    pollMs: 5,
    graceMs: 50,
    drain: true,
    drainMaxDelayMs: 0,
    now: () => clock,
    space,
  });
  const run = orchestrator.run();

  // Closed: wait until the gate has been asked a few times, then look at the queue.
  while (checksWhileClosed < 5) await Bun.sleep(5);
  const rows = db
    .query<{ state: string; attempts: number }, []>("SELECT state, attempts FROM jobs ORDER BY id")
    .all();
  expect(rows).toEqual(Array.from({ length: 6 }, () => ({ state: "queued", attempts: 0 })));
  expect(started).toHaveLength(1);
  expect(leasesWhileClosed).toBe(0);
  expect(db.query("SELECT reason FROM attempts").all()).toEqual([{ reason: "disk_full" }]);

  open = true;
  const summary = await run;
  expect(summary).toMatchObject({ acked: 6, failed: 0, end: "drained" });
  const done = db
    .query<{ state: string; attempts: number }, []>("SELECT state, attempts FROM jobs ORDER BY id")
    .all();
  expect(done).toEqual(Array.from({ length: 6 }, () => ({ state: "done", attempts: 1 })));
});
