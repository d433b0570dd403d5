// The politeness store contract (src/store/host-state.ts) as a suite over any implementation: the
// rate reservation is GCRA to the millisecond and atomic under concurrent callers, slots are capped
// and expire with their owner, waiters are served in arrival order, row updates serialize.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { gcraReserve } from "../../../src/store/gcra.ts";
import type { HostStateStore } from "../../../src/store/host-state.ts";

export interface HostStateFixture {
  /** Stores on one database (as separate runners would hold them). */
  stores: HostStateStore[];
  close(): void | Promise<void>;
}

/** `clock` is the fake database clock every store of the fixture reads. */
export type HostStateFactory = (clock: () => number) => Promise<HostStateFixture>;

const T0 = 1_700_000_000_000;

export function describeHostStateContract(name: string, factory: HostStateFactory): void {
  describe(`HostStateStore contract: ${name}`, () => {
    let clock = T0;
    let fx: HostStateFixture;
    let a: HostStateStore;
    let b: HostStateStore;
    beforeEach(async () => {
      clock = T0;
      fx = await factory(() => clock);
      [a, b] = fx.stores as [HostStateStore, HostStateStore];
    });
    afterEach(async () => {
      await fx.close();
    });

    test("a reservation answers what gcraReserve answers, refusals change nothing", async () => {
      let tat = 0;
      for (let i = 0; i < 12; i++) {
        clock += i % 3 === 0 ? 40 : 0;
        const want = gcraReserve(tat, clock, 100, 2, 250);
        const got = await a.reserveRate("h", "metadata", clock, 100, 2, 250);
        expect({ allowed: got.allowed, waitMs: got.waitMs, startAt: got.startAt }).toEqual({
          allowed: want.allowed,
          waitMs: want.waitMs,
          startAt: want.startAt,
        });
        if (want.allowed) tat = want.tat;
      }
      expect((await a.rates("h")).find((r) => r.role === "metadata")?.tat).toBe(tat);
    });

    test("concurrent reservations from two stores get distinct starts one interval apart", async () => {
      const got = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).reserveRate("h", "artifact", clock, 50, 1, 1e9)),
      );
      const waits = got.map((d) => d.waitMs).sort((x, y) => x - y);
      expect(waits).toEqual(Array.from({ length: 20 }, (_, i) => i * 50));
    });

    test("slots: at most `limit` across stores, even when taken concurrently", async () => {
      const taken = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).takeSlot("h", `t${i}`, i % 2 ? "A" : "B", clock, 30_000, 3),
        ),
      );
      expect(taken.filter(Boolean)).toHaveLength(3);
      expect(await a.liveSlots("h", clock)).toBe(3);
    });

    test("a dead owner's slots expire; a live owner's renewed slots do not", async () => {
      expect(await a.takeSlot("h", "a1", "A", clock, 1000, 2)).toBe(true);
      expect(await b.takeSlot("h", "b1", "B", clock, 1000, 2)).toBe(true);
      expect(await a.takeSlot("h", "a2", "A", clock, 1000, 2)).toBe(false);
      clock += 900;
      await a.renewOwner("A", clock, 1000);
      clock += 200; // B's slot expired, A's was renewed
      expect(await a.liveSlots("h", clock)).toBe(1);
      expect(await a.takeSlot("h", "a3", "A", clock, 1000, 2)).toBe(true);
      await a.releaseOwner("A");
      expect(await b.liveSlots("h", clock)).toBe(0);
    });

    test("waiters are promoted in arrival order as slots free up", async () => {
      expect(await a.takeSlot("h", "held", "A", clock, 30_000, 1)).toBe(true);
      await b.enqueueWaiter("h", "w1", "B", clock, 5000);
      clock += 5;
      await a.enqueueWaiter("h", "w2", "A", clock, 5000);
      expect(await a.waiters("h", clock)).toBe(2);
      expect(await a.takeSlot("h", "late", "A", clock, 30_000, 2)).toBe(false); // waiters come first
      await a.releaseSlot("h", "held");
      expect(await a.promoteWaiter("h", "w2", clock, clock, 30_000, 1)).toBe(false);
      expect(await b.promoteWaiter("h", "w1", clock - 5, clock, 30_000, 1)).toBe(true);
      await b.releaseSlot("h", "w1");
      expect(await a.promoteWaiter("h", "w2", clock, clock, 30_000, 1)).toBe(true);
    });

    test("row updates from two stores serialize: no increment is lost", async () => {
      await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          (i % 2 ? a : b).updateHost("h", clock, (row) => ({ ...row, count_429: row.count_429 + 1 })),
        ),
      );
      expect((await a.readHost("h"))?.count_429).toBe(16);
      const unchanged = await a.updateHost("h", clock + 1, (row) => row);
      expect(unchanged.updated_at).toBe(clock);
      expect(await a.knownHosts(10)).toEqual(["h"]);
    });
  });
}
