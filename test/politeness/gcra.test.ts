import { describe, expect, test } from "bun:test";
import { gcraNextAt, gcraReserve } from "../../src/store/gcra.ts";
import { prng } from "./prng.ts";

/** Reserve one request per arrival time and return the granted start times. */
function run(arrivals: number[], interval: number, burst: number, maxWait = Number.POSITIVE_INFINITY) {
  let tat = 0;
  const starts: number[] = [];
  for (const now of arrivals) {
    const d = gcraReserve(tat, now, interval, burst, maxWait);
    if (d.allowed) {
      starts.push(d.startAt);
      tat = d.tat;
    }
  }
  return starts;
}

describe("gcraReserve", () => {
  test("a new key goes at once and owes one interval", () => {
    expect(gcraReserve(0, 1000, 100, 1)).toEqual({ allowed: true, startAt: 1000, waitMs: 0, tat: 1100 });
  });

  test("burst 1: back-to-back requests are spaced one interval apart", () => {
    expect(run([0, 0, 0, 0], 100, 1)).toEqual([0, 100, 200, 300]);
  });

  test("burst 3: three go at once, the fourth one interval later", () => {
    expect(run([0, 0, 0, 0, 0], 100, 3)).toEqual([0, 0, 0, 100, 200]);
  });

  test("fractional intervals (1 per 3 s, 3/s) accumulate without drift", () => {
    const starts = run(Array(4).fill(0), 1000 / 3, 1);
    expect(starts[3]).toBeCloseTo(1000, 9);
    expect(run([0, 0, 0], 3000, 1)).toEqual([0, 3000, 6000]);
  });

  test("after a long idle the burst is back, but never more than the burst", () => {
    expect(run([0, 0, 0, 10_000, 10_000, 10_000, 10_000], 100, 3)).toEqual([
      0, 0, 0, 10_000, 10_000, 10_000, 10_100,
    ]);
  });

  test("a request within the budget waits nothing", () => {
    expect(run([0, 150, 400], 100, 1)).toEqual([0, 150, 400]);
  });

  test("a wait beyond maxWait reserves nothing; exactly maxWait is allowed", () => {
    const a = gcraReserve(1300, 1000, 100, 1, 299);
    expect(a).toEqual({ allowed: false, startAt: 1300, waitMs: 300, tat: 1300 });
    const b = gcraReserve(1300, 1000, 100, 1, 300);
    expect(b).toEqual({ allowed: true, startAt: 1300, waitMs: 300, tat: 1400 });
    // refusals leave the budget untouched: later callers are not pushed back by them
    expect(run([0, 0, 0, 0, 0], 100, 1, 150)).toEqual([0, 100]);
  });

  test("maxWait 0 only admits immediate requests", () => {
    expect(run([0, 0, 50, 100, 100], 100, 1, 0)).toEqual([0, 100]);
  });

  test("a burst below 1 behaves as 1", () => {
    expect(run([0, 0], 100, 0)).toEqual([0, 100]);
  });

  test("property: any window of length t holds at most burst + t/interval starts", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = prng(seed);
      const interval = 1 + rnd() * 500;
      const burst = 1 + Math.floor(rnd() * 5);
      const arrivals: number[] = [];
      let t = 0;
      for (let i = 0; i < 60; i++) {
        t += rnd() < 0.5 ? 0 : rnd() * interval * 3;
        arrivals.push(t);
      }
      const starts = run(arrivals, interval, burst);
      expect(starts.length).toBe(arrivals.length);
      for (let i = 0; i < starts.length; i++) {
        expect(starts[i] as number).toBeGreaterThanOrEqual(arrivals[i] as number);
        if (i > 0) expect(starts[i] as number).toBeGreaterThanOrEqual(starts[i - 1] as number);
        for (let j = i; j < starts.length; j++) {
          const span = (starts[j] as number) - (starts[i] as number);
          expect(j - i + 1).toBeLessThanOrEqual(burst + span / interval + 1e-9);
        }
      }
    }
  });

  test("property: no request waits longer than the budget requires (work conserving)", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rnd = prng(seed);
      const interval = 10 + rnd() * 100;
      let tat = 0;
      let now = 0;
      for (let i = 0; i < 50; i++) {
        now += rnd() * interval * 2;
        const d = gcraReserve(tat, now, interval, 1);
        // burst 1: a request waits exactly until one interval after the previous reserved start
        expect(d.startAt).toBeCloseTo(Math.max(now, tat), 9);
        tat = d.tat;
      }
    }
  });
});

describe("gcraNextAt", () => {
  test("is when a request would start without waiting", () => {
    expect(gcraNextAt(0, 500, 100, 1)).toBe(500);
    expect(gcraNextAt(900, 500, 100, 1)).toBe(900);
    expect(gcraNextAt(900, 500, 100, 3)).toBe(700);
  });
});
