import { expect, test } from "bun:test";
import { backoffCeilingMs, backoffDelayMs, retryAvailableAt } from "../../src/store/backoff.ts";

const policy = { baseMs: 30_000, capMs: 3_600_000 };

test("the ceiling doubles per attempt from the base and stops at the cap", () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffCeilingMs(n, policy))).toEqual([
    30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000,
  ]);
  expect(backoffCeilingMs(5000, policy)).toBe(3_600_000);
  expect(backoffCeilingMs(0, policy)).toBe(30_000);
});

test("full jitter: the delay is the random fraction of the ceiling", () => {
  expect(backoffDelayMs(1, policy, () => 0)).toBe(0);
  expect(backoffDelayMs(1, policy, () => 0.5)).toBe(15_000);
  expect(backoffDelayMs(3, policy, () => 0.25)).toBe(30_000);
  expect(backoffDelayMs(3, policy, () => 0.999999)).toBeLessThan(120_000);
  // A misbehaving random source cannot push the delay outside [0, ceiling].
  expect(backoffDelayMs(1, policy, () => 7)).toBe(30_000);
  expect(backoffDelayMs(1, policy, () => -1)).toBe(0);
});

test("jittered delays spread out instead of coming back together", () => {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const delays = Array.from({ length: 1000 }, () => backoffDelayMs(4, policy, random));
  expect(Math.min(...delays)).toBeLessThan(24_000);
  expect(Math.max(...delays)).toBeGreaterThan(216_000);
  expect(new Set(delays).size).toBeGreaterThan(900);
});

test("Retry-After replaces the draw but never lies in the past", () => {
  expect(retryAvailableAt(1_000, 1, policy, () => 0.5)).toBe(16_000);
  expect(retryAvailableAt(1_000, 1, policy, () => 0.5, 901_000)).toBe(901_000);
  expect(retryAvailableAt(1_000, 1, policy, () => 0.5, 500)).toBe(1_000);
  expect(retryAvailableAt(1_000, 1, policy, () => 0.5, Number.NaN)).toBe(16_000);
});
