// Durations typed on a command line: a number and a required unit.
import { expect, test } from "bun:test";
import { parseDuration } from "../../src/core/duration.ts";

test("a number and a unit: s, m, h, d, w", () => {
  expect(parseDuration("45s")).toBe(45_000);
  expect(parseDuration("30m")).toBe(1_800_000);
  expect(parseDuration("1.5h")).toBe(5_400_000);
  expect(parseDuration("90d")).toBe(90 * 86_400_000);
  expect(parseDuration(" 2W ")).toBe(14 * 86_400_000);
});

test("no unit, an unknown unit or no number is refused", () => {
  for (const text of ["90", "", "d", "3y", "-1d", "1e3d", "1d2h"]) expect(parseDuration(text)).toBeNull();
});
