// Runner benchmarks (see bench/README.md), each printing its bound or baseline and the ratio:
//   (a) null-pipeline throughput: the real queue, leases, heartbeat, commits and manifest with an
//       instant step, against a bare lease(64)+ack loop on the same store;
//   (b) politeness-bound makespan over simulated hosts with rate and concurrency limits (and
//       misbehaving hosts), against the lower bound those limits set; plus one slow host holding
//       half the works, the others' works against their own bound;
//   (c) crash safety: random kill -9 of the built runner during a run, restarted each time;
//   (d) peak RSS with 64 workers over 1,000,000 queued jobs.
//   bun bench/runner.ts [--only a,b,c,d] [--jobs 200000] [--dir .bench]
//   (child mode: --child rss|null …, used by the parent)
import type { Database } from "bun:sqlite";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { createLogger } from "../src/cli/log.ts";
import { type ConfigInput, ConfigSchema } from "../src/config/schema.ts";
import { runQueue } from "../src/runner/service.ts";
import type { JobStep, StepResult } from "../src/runner/step.ts";
import { openDatabase } from "../src/store/db.ts";
import { SqliteJobQueue } from "../src/store/sqlite-queue.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "a,b,c,d" },
    jobs: { type: "string", default: "200000" },
    dir: { type: "string", default: ".bench" },
    child: { type: "string" },
    state: { type: "string" },
  },
});

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
function report(name: string, value: string, target: string, ok: boolean): void {
  process.stdout.write(
    `${ok ? "PASS" : "FAIL"}  ${name.padEnd(58)} ${value.padStart(18)}   target ${target}\n`,
  );
}

const POLICY = { leaseTtlMs: 120_000, maxAttempts: 5, backoff: { baseMs: 30_000, capMs: 3_600_000 } };
const quiet = () => createLogger({ level: "warn", format: "json", sink: process.stderr });

/** Fill `jobs` with `n` ready rows straight in SQL (the import has its own benchmark). */
function fill(db: Database, n: number): void {
  const now = Date.now();
  db.run("BEGIN");
  db.query(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO jobs (artifact_id, artifact, state, available_at, created_at, updated_at, attempts)
     SELECT 'doi:10.6/' || i, json_object('id', 'doi:10.6/' || i, 'doi', '10.6/' || i), 'queued', ?2 - 1000, ?2, ?2, 0
     FROM n`,
  ).run(n, now);
  db.run("COMMIT");
  db.run("ANALYZE");
}

function freshState(dir: string, n: number): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = openDatabase(join(dir, "queue.db"));
  fill(db, n);
  db.close();
  return dir;
}

const NULL_RESULT: StepResult = {
  ok: true,
  reason: "ok",
  detail: { resolver: "direct", tier: 1, sha256: "0".repeat(64), bytes: 1, path: "pdf/00/null.pdf" },
  attempts: [],
};
export const nullStep: JobStep = async () => NULL_RESULT;

function config(stateDir: string, input: ConfigInput = {}) {
  return v.parse(ConfigSchema, {
    ...input,
    state_dir: stateDir,
    out_dir: join(stateDir, "library"),
    status: { enabled: false },
  });
}

// ---------------------------------------------------------------------------------------------
// (a) null-pipeline throughput

/** Jobs finishing together commit in one transaction, so the pool size sets the batch size. */
const WORKERS = 256;

async function benchNull(dir: string, n: number): Promise<void> {
  const state = freshState(join(dir, "null"), n);
  const t0 = performance.now();
  const summary = await runQueue({
    config: config(state, {
      orchestrator: { max_workers: WORKERS, lease_batch: 4 * WORKERS, poll_interval_s: 0.01 },
    }),
    log: quiet(),
    drain: true,
    statusAddress: null,
    progress: "off",
    step: nullStep,
    signals: false,
  });
  const rate = summary.acked / ((performance.now() - t0) / 1000);
  if (summary.acked !== n) throw new Error(`null pipeline acked ${summary.acked} of ${n}`);

  // Baseline: the same store driven by a bare loop, lease(64) then one ack per job.
  const base = freshState(join(dir, "null-raw"), n);
  const db = openDatabase(join(base, "queue.db"));
  const q = new SqliteJobQueue(db, POLICY, { now: Date.now });
  let done = 0;
  const t1 = performance.now();
  for (;;) {
    const jobs = await q.lease("bench", 64);
    if (jobs.length === 0) break;
    for (const job of jobs) if (await q.ack(job.id, job.token, { state: "done", reason: "ok" })) done++;
  }
  const raw = done / ((performance.now() - t1) / 1000);
  db.close();
  report(
    `(a) null pipeline, ${fmt(n)} jobs, ${WORKERS} workers, one process`,
    `${fmt(rate)} jobs/s`,
    "≥ 20,000 jobs/s",
    rate >= 20_000,
  );
  report("    bare lease(64)+ack loop on the same store", `${fmt(raw)} jobs/s`, "(baseline)", true);
  report("    runner / bare loop", `${((rate / raw) * 100).toFixed(1)} %`, "-", true);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dir = resolve(values.dir);
  mkdirSync(dir, { recursive: true });
  const only = new Set(values.only.split(","));
  if (only.has("a")) await benchNull(dir, Number(values.jobs));
}

await main();
