// The slot budget multipart uploads share: first come first served, a slot given back goes to the
// longest waiter, a waiter that gives up (its upload timed out) leaves the line without taking a
// slot with it, and the staging buffer is lent to one part at a time.
import { describe, expect, test } from "bun:test";
import { PartSlots } from "../../src/library/multipart.ts";

describe("PartSlots", () => {
  test("slots go to waiters in order; an aborted waiter leaves no slot behind", async () => {
    const slots = new PartSlots(2);
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(false);
    const order: string[] = [];
    const gone = new AbortController();
    const a = slots.take(new AbortController().signal).then(() => order.push("a"));
    const b = slots.take(gone.signal).then(
      () => order.push("b"),
      () => order.push("b gave up"),
    );
    const c = slots.take(new AbortController().signal).then(() => order.push("c"));
    gone.abort(new Error("timed out"));
    await b;
    slots.give(1);
    await a;
    slots.give(1);
    await c;
    expect(order).toEqual(["b gave up", "a", "c"]);
    expect(slots.available).toBe(0);
    slots.give(2);
    expect(slots.available).toBe(2);
  });

  test("the staging buffer is lent to one part at a time", async () => {
    const slots = new PartSlots(4);
    let inside = 0;
    let most = 0;
    const fill = async (buffer: Buffer) => {
      most = Math.max(most, ++inside);
      expect(buffer.length).toBeGreaterThanOrEqual(1024);
      await new Promise((resolve) => setImmediate(resolve)); // a read in progress: others get the loop
      inside--;
      return buffer.length;
    };
    await Promise.all([1, 2, 3].map(() => slots.withStaging(1024, fill)));
    expect(most).toBe(1);
  });
});
