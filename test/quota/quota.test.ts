// Daily quotas per source: the pure rules (UTC days, limits, announced budgets), counters shared by
// two connections to one database, and the plan under an exhausted source — `wait` hands the job
// back until the reset without an attempt, `skip` goes on without the source.
import { Database } from "bun:sqlite";
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { Quotas, sourceUsage } from "../../src/quota/gate.ts";
import { budgetOfAnswer, nextUtcMidnight, quotaVerdict, utcDay } from "../../src/quota/rules.ts";
import { runPlan } from "../../src/resolve/plan.ts";
import { resolverSettings } from "../../src/resolve/resolver.ts";
import { decideCommit } from "../../src/runner/decide.ts";
import { stepResult } from "../../src/runner/pipeline.ts";
import { openDatabase } from "../../src/store/db.ts";
import type { UsageRow } from "../../src/store/usage.ts";
import { startHarness } from "../resolve/harness.ts";
import type { TestWork } from "../support/catalogue.ts";
import { tempDir } from "../support/temp.ts";

const NOON = Date.UTC(2026, 2, 2, 12, 54, 6);

describe("rules", () => {
  test("UTC days and their reset", () => {
    expect(utcDay(NOON)).toBe("2026-03-02");
    expect(nextUtcMidnight(NOON)).toBe(Date.UTC(2026, 2, 3));
    expect(utcDay(Date.UTC(2026, 2, 2, 23, 59, 59, 999))).toBe("2026-03-02");
  });

  const row = (requests: number, exhausted_until = 0): UsageRow => ({
    source: "unpaywall",
    day: "2026-03-02",
    requests,
    cost_usd: 0,
    remaining_usd: null,
    limit_usd: null,
    exhausted_until,
    updated_at: NOON,
  });

  test("a daily limit is spent at the limit, until the next UTC midnight", () => {
    const policy = { dailyLimit: 3, whenExhausted: "wait" as const };
    expect(quotaVerdict("unpaywall", null, policy, NOON).ok).toBe(true);
    expect(quotaVerdict("unpaywall", row(2), policy, NOON).ok).toBe(true);
    const spent = quotaVerdict("unpaywall", row(3), policy, NOON);
    expect(spent).toMatchObject({ ok: false, until: Date.UTC(2026, 2, 3), whenExhausted: "wait" });
    expect(quotaVerdict("unpaywall", row(10 ** 6), { whenExhausted: "skip" }, NOON).ok).toBe(true);
  });

  test("a budget the source announced spent holds until the time it gave", () => {
    const v1 = quotaVerdict("openalex", row(1, NOON + 60_000), { whenExhausted: "skip" }, NOON);
    expect(v1).toMatchObject({ ok: false, until: NOON + 60_000, whenExhausted: "skip" });
    expect(quotaVerdict("openalex", row(1, NOON - 1), { whenExhausted: "wait" }, NOON).ok).toBe(true);
  });

  test("OpenAlex budget headers: cost, remaining, and exhaustion at zero until the announced reset", () => {
    const h = (remaining: string) =>
      new Headers({
        "x-ratelimit-cost-usd": "0.0001",
        "x-ratelimit-remaining-usd": remaining,
        "x-ratelimit-limit-usd": "1",
        "x-ratelimit-reset": "39954",
      });
    expect(budgetOfAnswer(h("0.5"), NOON)).toEqual({
      costUsd: 0.0001,
      remainingUsd: 0.5,
      limitUsd: 1,
      exhaustedUntil: undefined,
    });
    expect(budgetOfAnswer(h("0"), NOON).exhaustedUntil).toBe(NOON + 39_954_000);
    expect(budgetOfAnswer(undefined, NOON)).toEqual({});
  });
});

describe("counters in the database", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir("quota");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("two processes' connections count into the same day and see the same verdict", async () => {
    const config = v.parse(ConfigSchema, { resolvers: { unpaywall: { daily_limit: 3 } } });
    const a = openDatabase(join(dir, "queue.db"));
    const b = new Database(join(dir, "queue.db"), { strict: true });
    try {
      const qa = new Quotas(a, config, () => NOON);
      const qb = new Quotas(b, config, () => NOON);
      qa.record("unpaywall", { status: 200 });
      qb.record("unpaywall", { status: 404 });
      expect((await qa.check("unpaywall")).ok).toBe(true);
      qa.record("unpaywall", { status: 200 });
      expect(await qb.check("unpaywall")).toMatchObject({ ok: false, until: Date.UTC(2026, 2, 3) });
      // The next UTC day starts from zero.
      expect((await new Quotas(b, config, () => Date.UTC(2026, 2, 3, 0, 0, 1)).check("unpaywall")).ok).toBe(
        true,
      );
      qb.record("openalex", {
        status: 200,
        costUsd: 0.0001,
        headers: new Headers({ "x-ratelimit-remaining-usd": "0.9" }),
      });
      qa.record("openalex", { status: 200, costUsd: 0.0001 });
      const usage = await sourceUsage(a, config, NOON);
      expect(usage.find((u) => u.source === "unpaywall")).toMatchObject({
        requests: 3,
        daily_limit: 3,
        exhausted_until: "2026-03-03T00:00:00.000Z",
        when_exhausted: "wait",
      });
      expect(usage.find((u) => u.source === "openalex")).toMatchObject({
        requests: 2,
        cost_usd: 0.0002,
        remaining_usd: 0.9,
        exhausted_until: null,
      });
    } finally {
      b.close();
      a.close();
    }
  });

  test("Unpaywall's default daily limit is 100,000", () => {
    const config = v.parse(ConfigSchema, {});
    expect(config.resolvers.unpaywall.daily_limit).toBe(100_000);
    expect(config.resolvers.unpaywall.when_exhausted).toBe("wait");
    expect(config.resolvers.crossref.daily_limit).toBeUndefined();
  });
});

const work = (n: number): TestWork => ({
  n,
  scenario: "only Unpaywall knows the copy",
  ids: { doi: `10.5555/quota.${n}` },
  pages: [{ at: { host: "repo", path: `/q${n}.pdf` }, page: { kind: "pdf" } }],
  unpaywall: { pdf: { host: "repo", path: `/q${n}.pdf` } },
  expect: { obtained: true, resolver: "unpaywall" },
});
const works = [work(1), work(2), work(3)];
const harness = await startHarness(works, (c) => {
  c.resolvers.tiers = [["unpaywall"]];
  c.resolvers.unpaywall.daily_limit = 1;
});
afterAll(() => harness.stop());

describe("the plan under an exhausted source", () => {
  let dir: string;
  let db: Database;
  beforeEach(() => {
    dir = tempDir("quota-plan");
    db = openDatabase(join(dir, "queue.db"));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (w: TestWork, config: Config) =>
    runPlan(harness.artifact(w), {
      config,
      settings: resolverSettings(config),
      http: harness.http,
      quota: new Quotas(db, config, Date.now),
      tryCandidate: harness.trier(w),
    });

  test("wait: the job goes back to the queue until midnight UTC, with no attempt counted", async () => {
    const config = harness.config;
    const first = await run(works[0] as TestWork, config);
    expect(first.ok).toBe(true);
    const asked = harness.sim.services.unpaywall.requests.length;
    const second = await run(works[1] as TestWork, config);
    expect(harness.sim.services.unpaywall.requests.length).toBe(asked);
    expect(second).toMatchObject({ ok: false, reason: "rate_limited", transient: true });
    expect(second.ok ? 0 : second.retryAt).toBe(nextUtcMidnight(Date.now()));
    expect(second.progress.resolvers.unpaywall).toMatchObject({ state: "unsettled", reason: "rate_limited" });
    const commit = decideCommit(stepResult(second, harness.outDir, [], 0, false), undefined);
    expect(commit).toMatchObject({ kind: "release", until: nextUtcMidnight(Date.now()) });
  });

  test("skip: the job goes on without the source", async () => {
    const config: Config = {
      ...harness.config,
      resolvers: {
        ...harness.config.resolvers,
        unpaywall: { ...harness.config.resolvers.unpaywall, when_exhausted: "skip" },
      },
    };
    expect((await run(works[0] as TestWork, config)).ok).toBe(true);
    const third = await run(works[2] as TestWork, config);
    expect(third).toMatchObject({ ok: false, reason: "no_candidates", transient: false });
    expect(third.progress.resolvers.unpaywall).toMatchObject({ state: "skipped" });
    expect(third.progress.resolvers.unpaywall?.note).toContain("daily_limit of 1");
  });
});

describe("what operators see", () => {
  test("the report and /api/usage show each source's usage and quota", async () => {
    const { buildReport } = await import("../../src/telemetry/report.ts");
    const { reportText } = await import("../../src/telemetry/report-text.ts");
    const { createStatusApp } = await import("../../src/status/app.ts");
    const { createProductMetrics } = await import("../../src/telemetry/product-metrics.ts");
    const dir = tempDir("quota-report");
    const db = openDatabase(join(dir, "queue.db"));
    try {
      const config = v.parse(ConfigSchema, { resolvers: { unpaywall: { daily_limit: 2 } } });
      const q = new Quotas(db, config, () => NOON);
      q.record("unpaywall", { status: 200 });
      q.record("unpaywall", { status: 200 });
      q.record("openalex", {
        status: 200,
        costUsd: 0.0001,
        headers: new Headers({ "x-ratelimit-remaining-usd": "0.9999" }),
      });
      const sources = await sourceUsage(db, config, NOON);
      const report = buildReport(db, { objectives: config.telemetry.objectives, now: () => NOON, sources });
      expect(report.sources.map((s) => [s.source, s.requests])).toEqual([
        ["openalex", 1],
        ["unpaywall", 2],
      ]);
      const text = reportText(report);
      expect(text).toContain("sources today (UTC 2026-03-02)");
      expect(text).toMatch(/unpaywall\s+2\s+2\s+–\s+–\s+spent until 2026-03-03T00:00:00.000Z \(wait\)/);
      expect(text).toMatch(/openalex\s+1\s+–\s+\$0\.0001\s+\$0\.9999\s+ok/);
      const app = createStatusApp({
        store: {
          ping: () => true,
          stats: () => ({}) as never,
          list: () => ({ jobs: [], nextCursor: null }),
          show: () => null,
        },
        hosts: () => [],
        usage: () => sourceUsage(db, config, NOON),
        metrics: createProductMetrics({ stats: () => ({}) as never, hosts: () => [] }).registry,
        config,
        shuttingDown: () => false,
      });
      const body = (await (await app.request("/api/usage")).json()) as { sources: { source: string }[] };
      expect(body.sources.map((s) => s.source)).toEqual(["openalex", "unpaywall"]);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
