import { describe, expect, test } from "bun:test";
import { ClockOffset } from "../../../src/store/postgres/clock-offset.ts";

describe("ClockOffset", () => {
  test("before any reading the two clocks are taken as one", () => {
    expect(new ClockOffset().toLocal(1_000)).toBe(1_000);
  });

  test("a reading places the database instant at the middle of its round trip", () => {
    const c = new ClockOffset();
    // Database 500 ms ahead; sent at 1000, answered at 1004 (read at 1002 local = 1502 database).
    c.sample(1_502, 1_000, 1_004);
    expect(c.toLocal(2_000)).toBe(1_500);
  });

  test("the reading of the shortest round trip wins over slower, skewed ones", () => {
    const c = new ClockOffset();
    c.sample(1_502, 1_000, 1_004); // rtt 4: offset 500
    // Queued 60 ms before it was sent: the reading is taken at 1062 local, the middle says 1040.
    c.sample(1_562, 1_010, 1_070);
    expect(c.toLocal(2_000)).toBe(1_500);
    c.sample(2_001.5, 1_500, 1_501); // rtt 1: offset 501
    expect(c.toLocal(2_000)).toBe(1_499);
  });

  test("an old best reading gives way as its error bound ages", () => {
    const c = new ClockOffset();
    c.sample(1_500, 1_000, 1_000); // rtt 0: offset 500
    c.sample(10_000 + 515, 10_000, 10_010); // offset 510, rtt 10, 9 s later: bound 0 + 4.5 < 10, kept
    expect(c.toLocal(20_000)).toBe(19_500);
    c.sample(60_000 + 515, 60_000, 60_010); // offset 510, 59 s later: bound 29.5 ≥ 10, replaced
    expect(c.toLocal(20_000)).toBe(19_490);
  });
});
