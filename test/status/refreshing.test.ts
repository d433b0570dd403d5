import { describe, expect, test } from "bun:test";
import { Refreshing } from "../../src/status/refreshing.ts";

describe("Refreshing", () => {
  test("serves the value from memory until it is stale, then answers stale once and recomputes behind", async () => {
    let t = 0;
    let calls = 0;
    let release: () => void = () => {};
    const recomputed = new Promise<void>((r) => {
      release = r;
    });
    const value = new Refreshing(
      () => {
        calls++;
        if (calls === 2) setTimeout(release, 0);
        return calls;
      },
      { maxAgeMs: 1000, now: () => t },
    );
    expect((await value.get()).value).toBe(1);
    t = 999;
    expect((await value.get()).value).toBe(1);
    expect(calls).toBe(1);
    t = 1000;
    expect((await value.get()).value).toBe(1); // stale, answered at once
    await recomputed;
    expect(calls).toBe(2);
    expect((await value.get()).value).toBe(2);
  });

  test("invalidate() makes the next read compute again, and an older computation cannot overwrite it", async () => {
    let n = 0;
    const value = new Refreshing(async () => ++n, { maxAgeMs: 60_000 });
    expect((await value.get()).value).toBe(1);
    value.invalidate();
    expect((await value.get()).value).toBe(2);
  });

  test("a slow computation is spaced out by its cost", async () => {
    let t = 0;
    let calls = 0;
    const value = new Refreshing(
      () => {
        calls++;
        const end = performance.now() + 5;
        while (performance.now() < end) {} // 5 ms of work
        return calls;
      },
      { maxAgeMs: 1, costFactor: 1000, now: () => t },
    );
    await value.get();
    t = 10; // older than maxAgeMs, but younger than 1000 × 5 ms
    await value.get();
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toBe(1);
  });
});
