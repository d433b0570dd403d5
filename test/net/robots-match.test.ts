// The robots.txt matcher: agrees with a direct transcription of the reference algorithm (a set of
// reachable path positions per pattern character) on random patterns, decides hostile rules and
// large files in linear time, and a cached verdict is compiled once, not per check.
import { describe, expect, test } from "bun:test";
import { createRobotsCache } from "../../src/net/robots.ts";
import { allows, compileGroup, compileRule, ruleMatches } from "../../src/net/robots-match.ts";
import { groupFor, parseRobots, type RobotsGroup } from "../../src/net/robots-parse.ts";
import type { StoredRobots } from "../../src/net/robots-store.ts";

/** The reference matcher: O(pattern × path), obviously right, too slow for hostile input. */
function referenceMatches(pattern: string, path: string): boolean {
  let positions = [0];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "$" && i === pattern.length - 1) return positions.includes(path.length);
    if (c === "*") {
      const from = positions[0] as number;
      positions = Array.from({ length: path.length - from + 1 }, (_, k) => from + k);
    } else {
      positions = positions.filter((p) => path[p] === c).map((p) => p + 1);
      if (positions.length === 0) return false;
    }
  }
  return true;
}

/** A deterministic generator (mulberry32), so a failure names a reproducible case. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("ruleMatches agrees with the reference algorithm", () => {
  test("on 20,000 random patterns and paths (short and KMP-long literals)", () => {
    const next = random(9309);
    const pick = (chars: string, n: number) =>
      Array.from({ length: n }, () => chars[Math.floor(next() * chars.length)]).join("");
    const disagreements: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let pattern: string;
      let path: string;
      if (i % 4 === 0) {
        // Literals longer than the KMP threshold, and paths that often contain them.
        const literals = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
          pick("aab", 33 + Math.floor(next() * 20)),
        );
        pattern = `/${literals.join("*")}${next() < 0.3 ? "$" : ""}`;
        path = `/${literals.map((l) => (next() < 0.8 ? l : pick("aab", l.length)) + pick("ab", Math.floor(next() * 5))).join("")}`;
        if (next() < 0.5) path = `/${path.slice(1 + Math.floor(next() * 3))}`;
      } else {
        pattern = `/${pick("ab*$", Math.floor(next() * 8))}${next() < 0.3 ? "$" : ""}`;
        path = `/${pick("ab$", Math.floor(next() * 12))}`;
      }
      const got = ruleMatches(compileRule(false, pattern), path);
      if (got !== referenceMatches(pattern, path)) disagreements.push(`${pattern} vs ${path}: ${got}`);
    }
    expect(disagreements).toEqual([]);
  });

  test.each([
    ["/a*", "/a", true],
    ["/a**b", "/ab", true],
    ["*", "/", true],
    ["/*$", "/x", true],
    ["$", "/", false],
    ["/a$", "/a", true],
    ["/a$", "/ab", false],
    ["/a*b$", "/axbxb", true],
    ["/a*b$", "/axbx", false],
    ["/a$b", "/a$b", true],
    [`/*${"ab".repeat(40)}c`, `/${"ab".repeat(100)}c`, true],
    [`/*${"ab".repeat(40)}c`, `/${"ab".repeat(100)}`, false],
  ])("%s against %s → %p", (pattern, path, want) => {
    expect(ruleMatches(compileRule(false, pattern), path)).toBe(want);
    expect(referenceMatches(pattern, path)).toBe(want);
  });
});

/** Milliseconds `fn` takes, the fastest of `runs` (a slow scheduler slice cannot fail the test). */
function fastest(runs: number, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

describe("hostile and large robots.txt decide in linear time", () => {
  // A backtracking regular expression takes about 10 s per check on these; bounds are generous.
  test("Disallow: /*a*a*a*a*a*a*a*a*a*a*b against 50-character paths", () => {
    const robots = compileGroup(
      groupFor(parseRobots("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*b\n"), "x"),
    );
    const miss = `/${"a".repeat(49)}`;
    const hit = `/${"a".repeat(48)}b`;
    expect(allows(robots, miss)).toBe(true);
    expect(allows(robots, hit)).toBe(false);
    expect(fastest(5, () => allows(robots, miss))).toBeLessThan(50);
    expect(fastest(5, () => allows(robots, `/${"a".repeat(5000)}`))).toBeLessThan(50);
  });

  test("a 500 KiB robots.txt of about 24,000 rules: parsed once, each check fast", () => {
    const lines = ["User-agent: *"];
    let size = 0;
    for (let i = 0; size < 500 * 1024; i++) {
      const line = i % 3 === 0 ? `Disallow: /s${i}/*.pdf$` : `Disallow: /a${i}/x`;
      lines.push(line);
      size += line.length + 1;
    }
    const text = lines.join("\n");
    const robots = compileGroup(groupFor(parseRobots(text), "docstokg"));
    expect(robots.rules.length).toBeGreaterThan(24_000);
    expect(allows(robots, "/s3/paper.pdf")).toBe(false);
    expect(allows(robots, "/s3/paper.pdf?x")).toBe(true);
    expect(allows(robots, "/a4/x/y")).toBe(false);
    expect(allows(robots, "/free/paper.pdf")).toBe(true);
    // Star-first rules cannot be rejected by their first character: the worst kind for a scan.
    const starry = compileGroup({
      agents: ["*"],
      rules: Array.from({ length: 24_000 }, (_, i) => ({ allow: false, pattern: `*a${i}*b` })),
    });
    const path = `/${"a".repeat(49)}`;
    expect(fastest(3, () => allows(robots, "/free/paper.pdf"))).toBeLessThan(50);
    expect(fastest(3, () => allows(starry, path))).toBeLessThan(50);
  });
});

describe("a cached verdict is compiled once", () => {
  test("its rules are read once for any number of checks", async () => {
    let reads = 0;
    const group: RobotsGroup = {
      agents: ["*"],
      get rules() {
        reads++;
        return [{ allow: false, pattern: "/*a*a*a*a*b" }];
      },
    };
    const stored: StoredRobots = { kind: "rules", group, expires: Number.POSITIVE_INFINITY };
    const cache = createRobotsCache({
      productToken: "docstokg",
      ttlMs: 60_000,
      crawlDelayCapMs: 0,
      now: () => 0,
      fetchRobots: async () => ({ status: 500, body: "" }),
      store: { get: () => stored, put: () => {} },
    });
    const origin = "https://pub.example";
    for (let i = 0; i < 50; i++) {
      const verdict = await cache.check(new URL(`${origin}/${"a".repeat(i)}b`), origin);
      expect(verdict.allowed).toBe(i < 4);
    }
    expect(reads).toBe(1);
  });
});
