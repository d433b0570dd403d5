// The report's pure figures: nearest-rank percentiles (whole-array and streamed per group), ratios
// and the objectives check, with values worked out by hand.
import { describe, expect, test } from "bun:test";
import {
  distribution,
  evaluateObjectives,
  GroupedPercentiles,
  groupedDistributions,
  nearestRank,
  percentile,
  ratio,
  sortedDistribution,
} from "../../src/telemetry/sli.ts";

describe("nearest-rank percentiles", () => {
  test("ranks: ceil(p/100 · n), at least 1, at most n", () => {
    expect(nearestRank(0, 50)).toBe(0);
    expect(nearestRank(1, 50)).toBe(1);
    expect(nearestRank(1, 95)).toBe(1);
    expect(nearestRank(2, 50)).toBe(1);
    expect(nearestRank(4, 50)).toBe(2);
    expect(nearestRank(20, 95)).toBe(19);
    expect(nearestRank(100, 95)).toBe(95); // exactly 95, not 96 from float error
    expect(nearestRank(1000, 95)).toBe(950);
    expect(nearestRank(10, 100)).toBe(10);
    expect(nearestRank(10, 0)).toBe(1);
  });

  test("percentile of sorted values; distribution sorts a copy", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    const values = [40, 10, 30, 20];
    expect(distribution(values)).toEqual({ count: 4, p50: 20, p95: 40 });
    expect(values).toEqual([40, 10, 30, 20]);
    expect(distribution([])).toEqual({ count: 0, p50: null, p95: null });
  });

  test("streamed per group equals the whole-array answer, for every group size", () => {
    for (let n = 1; n <= 60; n++) {
      const values = Array.from({ length: n }, (_, i) => i * 3);
      const expected = distribution(values);
      expect(sortedDistribution(values, n)).toEqual(expected);
    }
  });

  test("groups in key order; a group missing from the counts is ignored; an empty group stays null", () => {
    const rows = [
      { key: "a", value: 1 },
      { key: "a", value: 2 },
      { key: "a", value: 9 },
      { key: "b", value: 5 },
      { key: "x", value: 100 },
    ];
    const d = groupedDistributions(
      rows,
      new Map([
        ["a", 3],
        ["b", 1],
        ["c", 0],
      ]),
    );
    expect(d.get("a")).toEqual({ count: 3, p50: 2, p95: 9 });
    expect(d.get("b")).toEqual({ count: 1, p50: 5, p95: 5 });
    expect(d.get("c")).toEqual({ count: 0, p50: null, p95: null });
    expect(d.has("x")).toBe(false);
    const picker = new GroupedPercentiles(new Map([["k", 2]]));
    picker.push("k", 1);
    picker.push("k", 8);
    expect(picker.result().get("k")).toEqual({ count: 2, p50: 1, p95: 8 });
  });

  test("ratio of nothing is unknown", () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(0, 0)).toBeNull();
  });
});

describe("objectives", () => {
  const o = { max_corruption: 0, max_429_ratio: 0.02, max_metadata_rate_wait_p95_ms: 250 };

  test("a figure exactly at its bound meets it", () => {
    const r = evaluateObjectives(
      {
        corruptFiles: 0,
        hosts: [{ host: "a", requests: 100, responses429: 2 }],
        metadataHeldBackP95Ms: 250,
      },
      o,
    );
    expect(r.map((x) => [x.name, x.status, x.actual])).toEqual([
      ["corruption", "met", 0],
      ["429_ratio", "met", 0.02],
      ["metadata_rate_wait_p95", "met", 250],
    ]);
  });

  test("just over: violated, naming the hosts worst first", () => {
    const r = evaluateObjectives(
      {
        corruptFiles: 1,
        hosts: [
          { host: "a", requests: 100, responses429: 3 },
          { host: "b", requests: 10, responses429: 5 },
          { host: "c", requests: 100, responses429: 0 },
          { host: "idle", requests: 0, responses429: 0 },
        ],
        metadataHeldBackP95Ms: 251,
      },
      o,
    );
    expect(r.map((x) => x.status)).toEqual(["violated", "violated", "violated"]);
    expect(r[1]?.actual).toBe(0.5);
    expect(r[1]?.detail).toBe("over 2 %: b 50 % (5/10), a 3 % (3/100)");
    expect(r[0]?.detail).toContain("1 stored file(s)");
  });

  test("unmeasured without data", () => {
    const r = evaluateObjectives(
      {
        corruptFiles: null,
        hosts: [{ host: "idle", requests: 0, responses429: 0 }],
        metadataHeldBackP95Ms: null,
      },
      o,
    );
    expect(r.map((x) => [x.status, x.actual])).toEqual([
      ["unmeasured", null],
      ["unmeasured", null],
      ["unmeasured", null],
    ]);
  });
});
