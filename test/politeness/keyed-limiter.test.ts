import { describe, expect, test } from "bun:test";
import { KeyedLimiter, type Slot } from "../../src/politeness/keyed-limiter.ts";
import { FakeClock, settle } from "./fake-clock.ts";

describe("KeyedLimiter", () => {
  test("holds at most `limit` per key; keys are independent", async () => {
    const l = new KeyedLimiter();
    const a1 = await l.acquire("a", 2);
    await l.acquire("a", 2);
    let third = false;
    const p = l.acquire("a", 2).then((s) => {
      third = true;
      return s;
    });
    await l.acquire("b", 2); // another key is not blocked
    await settle();
    expect(third).toBe(false);
    expect(l.inFlight("a")).toBe(2);
    expect(l.waiting("a")).toBe(1);
    a1.release();
    await p;
    expect(third).toBe(true);
    expect(l.inFlight("a")).toBe(2);
  });

  test("waiters are served first come, first served; newcomers do not jump the line", async () => {
    const l = new KeyedLimiter();
    const first = await l.acquire("h", 1);
    const order: number[] = [];
    const waiters = [1, 2, 3, 4].map((i) =>
      l.acquire("h", 1).then((s) => {
        order.push(i);
        return s;
      }),
    );
    await settle();
    expect(l.tryAcquire("h", 1)).toBeUndefined();
    first.release();
    for (const w of waiters) (await w).release();
    expect(order).toEqual([1, 2, 3, 4]);
  });

  test("an aborted waiter leaves the line, rejects with the reason, and the next one gets the slot", async () => {
    const l = new KeyedLimiter();
    const holder = await l.acquire("h", 1);
    const ctl = new AbortController();
    const aborted = l.acquire("h", 1, ctl.signal);
    const next = l.acquire("h", 1);
    await settle();
    expect(l.waiting("h")).toBe(2);
    ctl.abort(new Error("lease lost"));
    await expect(aborted).rejects.toThrow("lease lost");
    expect(l.waiting("h")).toBe(1);
    holder.release();
    const s = await next;
    expect(l.inFlight("h")).toBe(1);
    s.release();
    expect(l.inFlight("h")).toBe(0);
  });

  test("an already aborted signal takes nothing and leaves no key behind", async () => {
    const l = new KeyedLimiter();
    await expect(l.acquire("h", 1, AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
    expect(l.size).toBe(0);
  });

  test("release is idempotent: a double release cannot let two extra holders in", async () => {
    const l = new KeyedLimiter();
    const a = await l.acquire("h", 1);
    const w1 = l.acquire("h", 1);
    const w2 = l.acquire("h", 1);
    a.release();
    a.release();
    await w1;
    await settle();
    expect(l.inFlight("h")).toBe(1);
    expect(l.waiting("h")).toBe(1);
    (await w1).release();
    (await w2).release();
    expect(l.inFlight("h")).toBe(0);
  });

  test("a holder that throws gives its slot back through finally", async () => {
    const l = new KeyedLimiter();
    const work = async () => {
      const s = await l.acquire("h", 1);
      try {
        throw new Error("boom");
      } finally {
        s.release();
      }
    };
    await expect(work()).rejects.toThrow("boom");
    expect(l.inFlight("h")).toBe(0);
    expect(l.size).toBe(0);
  });

  test("idle keys are forgotten: memory does not grow with the number of hosts seen", async () => {
    const l = new KeyedLimiter();
    for (let i = 0; i < 10_000; i++) (await l.acquire(`host${i}.example`, 4)).release();
    expect(l.size).toBe(0);
    const held: Slot[] = [];
    for (let i = 0; i < 10; i++) held.push(await l.acquire(`k${i}`, 1));
    expect(l.size).toBe(10);
    for (const s of held) s.release();
    expect(l.size).toBe(0);
  });

  test("a raised limit lets waiters in; a lowered one drains holders above it", async () => {
    const l = new KeyedLimiter();
    const a = await l.acquire("h", 1);
    const w = l.acquire("h", 1);
    await settle();
    expect(l.waiting("h")).toBe(1);
    const b = await l.acquire("h", 3); // raised: the waiter and this caller both fit
    await w;
    expect(l.inFlight("h")).toBe(3);
    let late = false;
    const c = l.acquire("h", 1).then((s) => {
      late = true;
      return s;
    });
    a.release();
    b.release();
    await settle();
    expect(late).toBe(false); // one holder left, limit 1: still full
    (await w).release();
    (await c).release();
    expect(late).toBe(true);
    expect(l.size).toBe(0);
  });

  test("entries() shows holders, waiters and limits", async () => {
    const l = new KeyedLimiter();
    const s = await l.acquire("h", 2);
    expect(l.entries()).toEqual([{ key: "h", inFlight: 1, waiting: 0, limit: 2 }]);
    s.release();
    expect(l.entries()).toEqual([]);
  });

  test("acquireWithin: a wait that runs out answers undefined and leaves the line; one in time gets the slot", async () => {
    const clock = new FakeClock();
    const l = new KeyedLimiter();
    const holder = await l.acquire("h", 1);
    const late = l.acquireWithin("h", 1, 100, clock.sleep);
    const inTime = l.acquireWithin("h", 1, 1000, clock.sleep);
    await clock.advance(100);
    expect(await late).toBeUndefined();
    expect(l.waiting("h")).toBe(1);
    holder.release();
    const slot = await inTime;
    expect(slot?.release).toBeFunction();
    expect(l.inFlight("h")).toBe(1);
    slot?.release();
    expect(l.entries()).toEqual([]);
    // No time to wait at all: nothing is queued.
    const again = await l.acquire("h", 1);
    expect(await l.acquireWithin("h", 1, 0, clock.sleep)).toBeUndefined();
    expect(l.waiting("h")).toBe(0);
    again.release();
  });

  test("acquireWithin: the caller's abort rejects with its reason, not as a wait that ran out", async () => {
    const clock = new FakeClock();
    const l = new KeyedLimiter();
    const holder = await l.acquire("h", 1);
    const ctl = new AbortController();
    const waiting = l.acquireWithin("h", 1, 1000, clock.sleep, ctl.signal);
    ctl.abort(new Error("job cancelled"));
    await expect(waiting).rejects.toThrow("job cancelled");
    expect(l.waiting("h")).toBe(0);
    holder.release();
  });
});
