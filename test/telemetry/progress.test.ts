import { describe, expect, test } from "bun:test";
import { formatBytes, formatCount, formatDuration, formatRate } from "../../src/telemetry/format.ts";
import {
  CLEAR_LINE,
  formatProgressLine,
  ProgressReporter,
  progressRecord,
  progressSnapshot,
} from "../../src/telemetry/progress.ts";
import { rateSeries, ThroughputSampler, windowRate } from "../../src/telemetry/throughput.ts";

describe("formatting", () => {
  test("bytes use decimal units with one decimal below 10", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1000)).toBe("1.0 kB");
    expect(formatBytes(1_234_567)).toBe("1.2 MB");
    expect(formatBytes(45_600_000_000)).toBe("46 GB");
    expect(formatBytes(Number.NaN)).toBe("–");
  });
  test("counts get thousands separators", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(999)).toBe("999");
  });
  test("rates keep sensible precision", () => {
    expect(formatRate(0.25)).toBe("0.25/s");
    expect(formatRate(12.34)).toBe("12.3/s");
    expect(formatRate(20345)).toBe("20,345/s");
    expect(formatRate(Number.POSITIVE_INFINITY)).toBe("–/s");
  });
  test("durations", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(59.4)).toBe("59s");
    expect(formatDuration(192)).toBe("3m12s");
    expect(formatDuration(7500)).toBe("2h05m");
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe("3d04h");
    expect(formatDuration(null)).toBe("–");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("–");
  });
});

describe("throughput", () => {
  test("window rate uses the oldest sample inside the window", () => {
    const s = [
      { t: 0, done: 0, bytes: 0 },
      { t: 10_000, done: 10, bytes: 1000 },
      { t: 20_000, done: 30, bytes: 5000 },
    ];
    expect(windowRate(s, 60_000)).toEqual({ jobsPerSec: 1.5, bytesPerSec: 250 });
    expect(windowRate(s, 10_000)).toEqual({ jobsPerSec: 2, bytesPerSec: 400 });
    expect(windowRate(s.slice(0, 1), 60_000)).toBeNull();
  });
  test("rate series per interval, never negative after a counter reset", () => {
    const s = [
      { t: 0, done: 5, bytes: 0 },
      { t: 2000, done: 9, bytes: 10 },
      { t: 4000, done: 1, bytes: 0 },
    ];
    expect(rateSeries(s)).toEqual([
      { t: 2000, jobsPerSec: 2, bytesPerSec: 5 },
      { t: 4000, jobsPerSec: 0, bytesPerSec: 0 },
    ]);
  });
  test("the sampler keeps a bounded ring and ignores clocks going backwards", () => {
    const s = new ThroughputSampler(3);
    for (let i = 0; i < 10; i++) s.record({ t: i * 1000, done: i, bytes: 0 });
    expect(s.samples().map((x) => x.t)).toEqual([7000, 8000, 9000]);
    s.record({ t: 8500, done: 9, bytes: 0 });
    expect(s.samples().map((x) => x.t)).toEqual([7000, 8000, 8500]);
  });
});

describe("progress figures", () => {
  test("ETA from remaining work and rate; 0 when finished; unknown without a rate", () => {
    const c = { done: 250, total: 1000, bytes: 0, inFlight: 4 };
    expect(progressSnapshot(c, { jobsPerSec: 5, bytesPerSec: 0 }).etaSeconds).toBe(150);
    expect(progressSnapshot(c, { jobsPerSec: 0, bytesPerSec: 0 }).etaSeconds).toBeNull();
    expect(progressSnapshot(c, null).etaSeconds).toBeNull();
    expect(progressSnapshot({ ...c, done: 1000 }, null).etaSeconds).toBe(0);
  });

  test("the line shows done/total, percentage, rate, bytes/s, ETA and in-flight", () => {
    const s = progressSnapshot(
      { done: 1234, total: 10000, bytes: 0, inFlight: 16 },
      { jobsPerSec: 4.5, bytesPerSec: 1_200_000 },
    );
    expect(formatProgressLine(s, 200)).toBe(
      "1,234/10,000 12.3% · 4.50/s · 1.2 MB/s · ETA 32m28s · 16 in flight",
    );
  });

  test("a narrow terminal drops whole trailing figures first", () => {
    const s = progressSnapshot(
      { done: 1234, total: 10000, bytes: 0, inFlight: 16 },
      { jobsPerSec: 4.5, bytesPerSec: 1_200_000 },
    );
    expect(formatProgressLine(s, 40)).toBe("1,234/10,000 12.3% · 4.50/s · 1.2 MB/s");
    expect(formatProgressLine(s, 10)).toHaveLength(10);
  });

  test("JSON records carry numbers, rounded", () => {
    const s = progressSnapshot(
      { done: 1, total: 3, bytes: 99, inFlight: 2 },
      { jobsPerSec: 1 / 3, bytesPerSec: 10.6 },
    );
    expect(progressRecord(s)).toEqual({
      msg: "progress",
      done: 1,
      total: 3,
      in_flight: 2,
      bytes: 99,
      jobs_per_s: 0.333,
      bytes_per_s: 11,
      eta_s: 6,
    });
  });
});

describe("ProgressReporter", () => {
  test("on a TTY it redraws one line in place and clears it when stopped", () => {
    let t = 0;
    let done = 0;
    const out: string[] = [];
    const r = new ProgressReporter({
      mode: "tty",
      read: () => ({ done, total: 100, bytes: done * 1000, inFlight: 2 }),
      now: () => t,
      stream: { write: (s) => out.push(s), columns: 120 },
      intervalMs: 1000,
    });
    r.tick();
    t = 10_000;
    done = 20;
    const snap = r.tick();
    expect(snap.jobsPerSec).toBe(2);
    expect(snap.etaSeconds).toBe(40);
    expect(out).toHaveLength(2);
    expect(out.every((s) => s.startsWith(CLEAR_LINE) && !s.includes("\n"))).toBe(true);
    expect(out[1]).toContain("20/100 20.0% · 2.00/s · 2.0 kB/s · ETA 40s · 2 in flight");
    r.stop();
    expect(out[2]).toBe(CLEAR_LINE);
  });

  test("in JSON mode it logs records and never writes to the stream", () => {
    const out: string[] = [];
    const logged: Record<string, unknown>[] = [];
    const r = new ProgressReporter({
      mode: "json",
      read: () => ({ done: 5, total: 10, bytes: 0, inFlight: 0 }),
      now: () => 0,
      stream: { write: (s) => out.push(s) },
      log: (rec) => logged.push(rec),
      intervalMs: 1000,
    });
    r.tick();
    r.stop();
    expect(out).toEqual([]);
    expect(logged).toEqual([
      {
        msg: "progress",
        done: 5,
        total: 10,
        in_flight: 0,
        bytes: 0,
        jobs_per_s: null,
        bytes_per_s: null,
        eta_s: null,
      },
    ]);
  });
});
