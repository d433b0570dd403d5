import { describe, expect, test } from "bun:test";
import { Pacer, rateKeyOf } from "../../src/politeness/pacing.ts";
import { FakeClock } from "./fake-clock.ts";

const policy = { intervalMs: { metadata: 100, landing: 200, artifact: 500 }, burst: 3 };

describe("rateKeyOf", () => {
  test("without a crawl delay each role draws on its own budget, with the host's burst", () => {
    expect(rateKeyOf("h", "artifact", policy, 0)).toEqual({
      host: "h",
      key: "artifact",
      intervalMs: 500,
      burst: 3,
    });
  });

  test("a crawl delay puts landing pages and files on one robots budget, burst 1, at least the delay apart", () => {
    expect(rateKeyOf("h", "landing", policy, 1000)).toEqual({
      host: "h",
      key: "robots",
      intervalMs: 1000,
      burst: 1,
    });
    expect(rateKeyOf("h", "artifact", policy, 300)).toEqual({
      host: "h",
      key: "robots",
      intervalMs: 500,
      burst: 1,
    });
    // Metadata requests are not subject to robots.txt.
    expect(rateKeyOf("h", "metadata", policy, 1000).key).toBe("metadata");
  });
});

describe("Pacer", () => {
  test("on time the start is recorded at once (no promise); a request right behind waits out the interval", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(clock.now, clock.sleep);
    const k = { host: "h", key: "artifact", intervalMs: 100, burst: 1 };
    // A cold key's first request: the next waits for its answer, then the interval from the answer.
    expect(pacer.start(k, clock.now() + 10_000, {})).toBe(true);
    pacer.answered("h", clock.now());
    const next = pacer.start(k, clock.now() + 10_000, {});
    expect(next).toBeInstanceOf(Promise);
    await clock.advance(100);
    expect(await next).toBe(true);
    // Past the deadline: the time it could go instead.
    const tooLate = pacer.start(k, clock.now() + 10, {});
    expect(await tooLate).toBe(clock.now() + 100 - 5);
  });
});
