import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { formatInterval, parseRate, RateError } from "../../src/politeness/rate.ts";

describe("parseRate", () => {
  const cases: Array<[string, number]> = [
    ["10/s", 100],
    ["1/3s", 3000],
    ["100/min", 600],
    ["0.5/s", 2000],
    ["2/1.5s", 750],
    ["1 per 3 s", 3000],
    ["1 per 3 seconds", 3000],
    ["1 per s", 1000],
    ["3/h", 1_200_000],
    ["4/ms", 0.25],
    [" 10 / s ", 100],
    ["1/sec", 1000],
    ["6/2m", 20_000],
    ["30/1min", 2000],
  ];
  for (const [value, ms] of cases) {
    test(`"${value}" is one request every ${ms} ms`, () => {
      expect(parseRate(value)).toBeCloseTo(ms, 9);
    });
  }

  test('"1 per 3 s" is not read as one per second (the reference defect)', () => {
    expect(parseRate("1 per 3 s")).not.toBe(1000);
  });

  const bad = ["", "fast", "10", "10/x", "/s", "10 per", "1/-3s", "-1/s", "1e3/s"];
  for (const value of bad) {
    test(`"${value}" is refused with a message naming it`, () => {
      expect(() => parseRate(value, "politeness.rates.metadata")).toThrow(RateError);
      expect(() => parseRate(value, "politeness.rates.metadata")).toThrow(
        `politeness.rates.metadata: "${value}" is not a rate`,
      );
    });
  }

  test("a zero count or an empty period is refused with the reason", () => {
    expect(() => parseRate("0/s", "x")).toThrow('x: "0/s" allows no requests');
    expect(() => parseRate("1/0s", "x")).toThrow('x: "1/0s" has an empty period');
  });

  test("the config schema accepts exactly what the parser reads", () => {
    const cfg = v.parse(ConfigSchema, { politeness: { rates: { artifact: "1 per 3 s" } } });
    expect(parseRate(cfg.politeness.rates.artifact ?? "")).toBe(3000);
    const bad = v.safeParse(ConfigSchema, { politeness: { rates: { artifact: "3 a second" } } });
    expect(bad.success).toBe(false);
  });
});

describe("formatInterval", () => {
  test("shows requests per second", () => {
    expect(formatInterval(100)).toBe("10/s");
    expect(formatInterval(3000)).toBe("0.333/s");
    expect(formatInterval(0)).toBe("unlimited");
  });
});
