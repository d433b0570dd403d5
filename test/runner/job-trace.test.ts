// One trace per leased job, over the real SQLite queue with a recording tracer: the root opens at the
// lease with a lease span, the step's spans hang under it, and every root ends exactly once with
// how its job ended — committed, failed, or handed back at shutdown without ever starting.
import type { Database } from "bun:sqlite";
import { afterEach, beforeEach, expect, test } from "bun:test";
import type { Artifact } from "../../src/artifact/artifact.ts";
import { Orchestrator } from "../../src/runner/orchestrator.ts";
import type { JobStep, StepResult } from "../../src/runner/step.ts";
import type { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { type FinishedSpan, RecordingTracer } from "../../src/telemetry/tracing.ts";
import { FIXED_CLOCK, memoryQueue } from "../support/memory-queue.ts";

let db: Database;
let queue: SqliteJobQueue;
beforeEach(() => {
  ({ db, queue } = memoryQueue());
});
afterEach(() => db.close());

const works = (n: number): Artifact[] =>
  Array.from({ length: n }, (_, i) => ({ id: `doi:10.1/${i}`, doi: `10.1/${i}` }));
const ok: StepResult = { ok: true, reason: "ok", detail: { sha256: "00", bytes: 1 }, attempts: [], bytes: 7 };
const notFound: StepResult = {
  ok: false,
  reason: "not_found",
  transient: false,
  deferred: false,
  message: "gone",
  attempts: [],
};

function traced(step: JobStep, maxWorkers = 4) {
  const spans: FinishedSpan[] = [];
  const tracer = new RecordingTracer((s) => spans.push(s));
  const o = new Orchestrator({
    queue,
    owner: "runner-a",
    step,
    maxWorkers,
    leaseBatch: 8,
    heartbeatMs: 60_000,
    pollMs: 5,
    graceMs: 50,
    drain: true,
    drainMaxDelayMs: 0,
    now: () => FIXED_CLOCK,
    tracer,
  });
  return { o, spans, tracer };
}

const hex = (b?: Uint8Array) => (b ? Buffer.from(b).toString("hex") : undefined);

test("each job: a root span with a lease child, the step's spans below it, ended with the outcome", async () => {
  await queue.enqueue(works(5));
  let t: RecordingTracer | undefined;
  const step: JobStep = async (job, ctx) => {
    t?.startSpan("tier 1", { parent: ctx.span }).end();
    return job.id === 4 ? notFound : ok;
  };
  const run = traced(step);
  t = run.tracer;
  expect(await run.o.run()).toMatchObject({ acked: 4, failed: 1 });
  const roots = run.spans.filter((s) => s.name === "job");
  expect(roots.map((s) => s.attributes["job.id"]).sort()).toEqual([1, 2, 3, 4, 5]);
  for (const root of roots) {
    const children = run.spans.filter((s) => hex(s.parentSpanId) === hex(root.spanId));
    expect(children.map((s) => s.name).sort()).toEqual(["lease", "tier 1"]);
    for (const c of children) expect(hex(c.traceId)).toBe(hex(root.traceId) as string);
    expect(root.attributes).toMatchObject({ attempt: 1, runner: "runner-a", outcome: expect.any(String) });
  }
  expect(new Set(roots.map((s) => hex(s.traceId))).size).toBe(5);
  const failed = roots.find((s) => s.attributes["job.id"] === 4);
  expect(failed?.attributes).toMatchObject({ outcome: "fail", state: "error", reason: "not_found" });
  expect(failed?.error).toBe("not_found");
  const done = roots.find((s) => s.attributes["job.id"] === 1);
  expect(done?.attributes).toMatchObject({ outcome: "ack", state: "done", reason: "ok", bytes: 7 });
  expect(done?.error).toBeUndefined();
  const lease = run.spans.find((s) => s.name === "lease");
  expect(lease?.attributes.batch).toBe(5);
});

test("jobs leased but never started end their trace when shutdown hands them back", async () => {
  await queue.enqueue(works(6));
  let release: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    release = resolve;
  });
  let stop: () => void = () => {};
  const step: JobStep = async (_job, ctx) => {
    release();
    await new Promise<void>((resolve) => {
      stop = resolve;
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    return ok;
  };
  const run = traced(step, 1);
  const done = run.o.run();
  await started;
  run.o.stop();
  stop();
  expect(await done).toMatchObject({ acked: 1, released: 5 });
  const roots = run.spans.filter((s) => s.name === "job");
  expect(roots).toHaveLength(6);
  expect(
    roots.filter((s) => s.attributes.reason === "shutdown" && s.attributes.outcome === "release"),
  ).toHaveLength(5);
});
