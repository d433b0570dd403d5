// robots.txt per RFC 9309: the examples of the RFC, grouping, longest match, wildcards, and the
// per-origin cache's answers to 2xx/4xx/5xx/unreachable with a fake clock.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import {
  createRobotsCache,
  groupFor,
  isAllowed,
  matches,
  parseRobots,
  type RobotsFetch,
} from "../../src/net/robots.ts";
import type { RobotsStore } from "../../src/net/robots-store.ts";
import { createRobotsSchema, sqliteRobotsStore } from "../../src/store/sqlite/robots.ts";

// RFC 9309 section 5.1.
const RFC_5_1 = `User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
`;

const allowed = (text: string, agent: string, path: string) =>
  isAllowed(groupFor(parseRobots(text), agent), path);

describe("RFC 9309 5.1 example", () => {
  const cases: [string, string, boolean][] = [
    ["foobot", "/example/page.html", true],
    ["foobot", "/example/allowed.gif", true],
    ["foobot", "/example/other.html", false],
    ["foobot", "/", false],
    ["FooBot", "/example/page.html", true],
    ["barbot", "/example/page.html", false],
    ["bazbot", "/example/page.html", false],
    ["barbot", "/example/other.html", true],
    ["barbot", "/image.gif", true],
    ["quxbot", "/example/page.html", true],
    ["quxbot", "/anything.gif", true],
    ["otherbot", "/image.gif", false],
    ["otherbot", "/image.gif?x=1", true],
    ["otherbot", "/example/", false],
    ["otherbot", "/example/deep/page", false],
    ["otherbot", "/publications/paper.pdf", true],
    ["otherbot", "/robots.txt", true],
  ];
  for (const [agent, path, want] of cases) {
    test(`${agent} ${path} → ${want ? "allow" : "disallow"}`, () =>
      expect(allowed(RFC_5_1, agent, path)).toBe(want));
  }
});

describe("longest match (RFC 9309 5.2 and 2.2.2)", () => {
  const text = "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n";
  test("the more specific rule wins", () => {
    expect(allowed(text, "foobot", "/example/page/")).toBe(true);
    expect(allowed(text, "foobot", "/example/page/disallowed.gif")).toBe(false);
  });
  test("Allow wins a tie of equal length", () => {
    const tie = "User-agent: *\nDisallow: /page\nAllow: /page\n";
    expect(allowed(tie, "x", "/page")).toBe(true);
  });
  test("an empty Disallow allows everything", () => {
    expect(allowed("User-agent: *\nDisallow:\n", "x", "/anything")).toBe(true);
  });
  test("no robots groups means allowed", () => {
    expect(allowed("", "docstokg", "/a")).toBe(true);
    expect(allowed("Sitemap: https://x.example/s.xml\n", "docstokg", "/a")).toBe(true);
  });
});

describe("patterns", () => {
  const cases: [string, string, boolean][] = [
    ["/fish", "/fish", true],
    ["/fish", "/fish.html", true],
    ["/fish", "/fish/salmon.html", true],
    ["/fish", "/Fish.asp", false],
    ["/fish", "/catfish", false],
    ["/fish*", "/fishheads/yummy.html", true],
    ["/fish/", "/fish", false],
    ["/*.php", "/index.php", true],
    ["/*.php", "/folder/filename.php?parameters", true],
    ["/*.php", "/windows.PHP", false],
    ["/*.php$", "/filename.php", true],
    ["/*.php$", "/filename.php?parameters", false],
    ["/fish*.php", "/fishheads/catfish.php?parameters", true],
    ["/fish*.php", "/Fish.PHP", false],
    ["/path/foo-$", "/path/foo-", true],
    ["/path/foo-$", "/path/foo-bar", false],
    ["/foo/bar/ツ", "/foo/bar/%E3%83%84", true],
    ["/foo/bar/%E3%83%84", "/foo/bar/%e3%83%84", true],
    ["/a.b+c(d)", "/a.b+c(d)/x", true],
    ["/a.b", "/aXb", false],
  ];
  for (const [pattern, path, want] of cases) {
    test(`${pattern} ${want ? "matches" : "does not match"} ${path}`, () =>
      expect(matches(pattern, path)).toBe(want));
  }
});

describe("parsing", () => {
  test("consecutive user-agent lines share a group; groups naming the agent merge", () => {
    const groups = parseRobots("User-agent: a\nUser-agent: b\nDisallow: /x\n\nUser-agent: a\nDisallow: /y\n");
    expect(groups).toHaveLength(2);
    const g = groupFor(groups, "a");
    expect(g.rules.map((r) => r.pattern)).toEqual(["/x", "/y"]);
  });
  test("rules before any user-agent, comments, odd case and CRLF", () => {
    const text =
      "Disallow: /orphan\r\n# comment\r\nUSER-AGENT: * # everyone\r\nDISALLOW: /secret # hidden\r\n";
    expect(allowed(text, "x", "/orphan")).toBe(true);
    expect(allowed(text, "x", "/secret/1")).toBe(false);
  });
  test("crawl-delay is read per group; a bad value is ignored", () => {
    const g = groupFor(
      parseRobots("User-agent: *\nCrawl-delay: 2.5\n\nUser-agent: b\nCrawl-delay: soon\n"),
      "a",
    );
    expect(g.crawlDelay).toBe(2.5);
    expect(groupFor(parseRobots("User-agent: b\nCrawl-delay: soon\n"), "b").crawlDelay).toBeUndefined();
  });
  test("a sitemap line between rules does not split the group", () => {
    expect(allowed("User-agent: *\nDisallow: /a\nSitemap: /s.xml\nDisallow: /b\n", "x", "/b")).toBe(false);
  });
});

describe("robots cache", () => {
  /** A cache over scripted answers; `another()` is a second process's cache on the same store and clock. */
  function setup(answers: RobotsFetch[], store?: RobotsStore) {
    let t = 1_000_000;
    const fetched: string[] = [];
    const delays: [string, number][] = [];
    const another = () =>
      createRobotsCache({
        productToken: "docstokg",
        ttlMs: 3_600_000,
        retryMs: 60_000,
        crawlDelayCapMs: 10_000,
        now: () => t,
        fetchRobots: async (origin) => {
          fetched.push(origin);
          return answers.shift() ?? { status: 404, body: "" };
        },
        onCrawlDelay: (origin, ms) => delays.push([origin, ms]),
        store,
      });
    return {
      cache: another(),
      another,
      fetched,
      delays,
      advance: (ms: number) => {
        t += ms;
      },
      now: () => t,
    };
  }
  const origin = "https://pub.example";
  const url = (p: string) => new URL(origin + p);

  describe("shared through the state database (two processes)", () => {
    const sharedStore = () => {
      const d = new Database(":memory:");
      createRobotsSchema(d);
      return sqliteRobotsStore(d);
    };

    test("the second uses the first one's verdict, crawl delay included; after the TTL it is fetched again", async () => {
      const robots = "User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n";
      const answers = [
        { status: 200, body: robots },
        { status: 200, body: "User-agent: *\nAllow: /\n" },
      ];
      const p = setup(answers, sharedStore());
      const b = p.another();
      expect(await p.cache.check(url("/paper.pdf"), origin)).toEqual({ allowed: true, crawlDelayMs: 3000 });
      expect(await b.check(url("/private/x.pdf"), origin)).toMatchObject({
        allowed: false,
        reason: "robots_disallowed",
      });
      expect(p.fetched).toEqual([origin]);
      expect(p.delays).toEqual([
        [origin, 3000],
        [origin, 3000],
      ]);
      p.advance(3_600_001);
      expect(await b.check(url("/private/x.pdf"), origin)).toEqual({ allowed: true });
      expect(await p.cache.check(url("/private/x.pdf"), origin)).toEqual({ allowed: true });
      expect(p.fetched).toEqual([origin, origin]);
    });

    test("an unreadable robots.txt closes the origin for both until its retry time", async () => {
      const p = setup([{ failure: "conn_error", message: "refused" }], sharedStore());
      const b = p.another();
      const first = await p.cache.check(url("/a.pdf"), origin);
      expect(first).toMatchObject({ allowed: false, reason: "conn_error", retryAt: 1_060_000 });
      expect(await b.check(url("/a.pdf"), origin)).toEqual(first);
      expect(p.fetched).toEqual([origin]);
      p.advance(60_001);
      expect(await b.check(url("/a.pdf"), origin)).toEqual({ allowed: true }); // 404 now: allow all
      expect(p.fetched).toEqual([origin, origin]);
    });
  });

  test("2xx is parsed and cached for the TTL, then fetched again", async () => {
    const s = setup([
      { status: 200, body: "User-agent: *\nDisallow: /x\nCrawl-delay: 60\n" },
      { status: 200, body: "" },
    ]);
    expect(await s.cache.check(url("/x/1"), origin)).toMatchObject({
      allowed: false,
      reason: "robots_disallowed",
    });
    expect(await s.cache.check(url("/y"), origin)).toEqual({ allowed: true, crawlDelayMs: 10_000 });
    expect(s.fetched).toHaveLength(1);
    expect(s.delays).toEqual([[origin, 10_000]]);
    s.advance(3_600_001);
    expect(await s.cache.check(url("/x/1"), origin)).toEqual({ allowed: true });
    expect(s.fetched).toHaveLength(2);
  });

  test("4xx allows all", async () => {
    const s = setup([{ status: 403, body: "" }]);
    expect(await s.cache.check(url("/anything"), origin)).toEqual({ allowed: true });
  });

  test("5xx, 429 and unreachable disallow for now with a transient reason, then ask again", async () => {
    const s = setup([
      { status: 500, body: "" },
      { status: 429, body: "" },
      { failure: "timeout", message: "no answer" },
      { status: 200, body: "User-agent: *\nAllow: /\n" },
    ]);
    const first = await s.cache.check(url("/a"), origin);
    expect(first).toMatchObject({ allowed: false, reason: "http_500", retryAt: s.now() + 60_000 });
    expect(await s.cache.check(url("/a"), origin)).toMatchObject({ reason: "http_500" });
    expect(s.fetched).toHaveLength(1);
    s.advance(60_001);
    expect(await s.cache.check(url("/a"), origin)).toMatchObject({ allowed: false, reason: "http_429" });
    s.advance(60_001);
    expect(await s.cache.check(url("/a"), origin)).toMatchObject({ allowed: false, reason: "timeout" });
    s.advance(60_001);
    expect(await s.cache.check(url("/a"), origin)).toEqual({ allowed: true });
  });

  test("concurrent checks of one origin share one fetch", async () => {
    const s = setup([{ status: 200, body: "" }]);
    await Promise.all([1, 2, 3, 4].map((i) => s.cache.check(url(`/${i}`), origin)));
    expect(s.fetched).toHaveLength(1);
  });
});
