import { describe, expect, test } from "bun:test";
import { OutcomeTotals } from "../../src/status/read-only.ts";
import { ThroughputSampler } from "../../src/telemetry/throughput.ts";
import { commitOutcomes } from "../support/outbox-db.ts";
import { NOW, statusFixture } from "../support/status-fixture.ts";

describe("outcome totals for the throughput chart", () => {
  test("seeding puts the last hour's outcomes into per-minute samples, then advances incrementally", async () => {
    const fx = await statusFixture();
    const sampler = new ThroughputSampler(360);
    const totals = new OutcomeTotals(fx.db);
    totals.seed(sampler, NOW + 30_000);
    const samples = sampler.samples();
    expect(samples[0]).toEqual({ t: NOW - 60 * 60_000, done: 0, bytes: 0 });
    // 10 done + 1 skipped + 4 error outcomes, all finished at NOW (the start of a minute).
    expect(samples[samples.length - 1]).toEqual({ t: NOW + 30_000, done: 15, bytes: 0 });
    expect(samples.length).toBe(62);
    expect(totals.done).toBe(15);
    await commitOutcomes(fx.db, 3, { now: NOW + 40_000 });
    totals.advance();
    expect(totals.done).toBe(18);
    expect(totals.bytes).toBeGreaterThan(0);
    totals.advance();
    expect(totals.done).toBe(18);
  });

  test("old outcomes are counted once but do not appear as a spike in the chart", async () => {
    const fx = await statusFixture();
    const sampler = new ThroughputSampler(360);
    const totals = new OutcomeTotals(fx.db);
    totals.seed(sampler, NOW + 3 * 3600_000);
    expect(sampler.samples().every((s) => s.done === 0)).toBe(true);
    totals.advance();
    expect(totals.done).toBe(0);
  });
});
