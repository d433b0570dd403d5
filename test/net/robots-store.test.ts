// robots.txt verdicts shared through the state database: a second process (here a second cache on
// the same database) uses the first one's verdict instead of fetching robots.txt again, until it
// expires; every kind of verdict survives the round trip; an unreadable row means "fetch again".
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { createRobotsCache, type RobotsFetch } from "../../src/net/robots.ts";
import { createRobotsSchema, type StoredRobots, sqliteRobotsStore } from "../../src/net/robots-store.ts";

function db(): Database {
  const d = new Database(":memory:");
  createRobotsSchema(d);
  return d;
}

describe("sqliteRobotsStore", () => {
  test("rules, allow-all and unavailable verdicts round-trip", () => {
    const store = sqliteRobotsStore(db());
    const entries: Record<string, StoredRobots> = {
      "https://a.example": {
        kind: "rules",
        group: { agents: ["*"], rules: [{ allow: false, pattern: "/private/" }], crawlDelay: 2 },
        expires: 1000,
      },
      "https://b.example": { kind: "allow_all", expires: 2000 },
      "https://c.example": {
        kind: "unavailable",
        failure: { reason: "http_503", message: "robots.txt of https://c.example answered 503" },
        expires: 3000,
      },
    };
    for (const [origin, e] of Object.entries(entries)) store.put(origin, e);
    for (const [origin, e] of Object.entries(entries)) expect(store.get(origin)).toEqual(e);
    expect(store.get("https://none.example")).toBeUndefined();
    store.put("https://b.example", { kind: "allow_all", expires: 5000 });
    expect(store.get("https://b.example")).toEqual({ kind: "allow_all", expires: 5000 });
  });

  test("a row that does not parse is treated as absent", () => {
    const d = db();
    d.run(
      "INSERT INTO robots_cache (origin, kind, detail, expires_at) VALUES ('https://x.example', 'rules', '{oops', 9)",
    );
    expect(sqliteRobotsStore(d).get("https://x.example")).toBeUndefined();
  });
});

describe("two caches on one database", () => {
  function twoProcesses(answers: RobotsFetch[]) {
    const shared = db();
    let t = 1_000_000;
    const fetched: string[] = [];
    const delays: [string, number][] = [];
    const make = () =>
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
        store: sqliteRobotsStore(shared),
      });
    return { a: make(), b: make(), fetched, delays, advance: (ms: number) => (t += ms) };
  }
  const origin = "https://pub.example";
  const url = (p: string) => new URL(`${origin}${p}`);

  test("the second uses the first one's verdict, crawl delay included; after the TTL it is fetched again", async () => {
    const robots = "User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n";
    const p = twoProcesses([
      { status: 200, body: robots },
      { status: 200, body: "User-agent: *\nAllow: /\n" },
    ]);
    expect(await p.a.check(url("/paper.pdf"), origin)).toEqual({ allowed: true, crawlDelayMs: 3000 });
    expect(await p.b.check(url("/private/x.pdf"), origin)).toMatchObject({
      allowed: false,
      reason: "robots_disallowed",
    });
    expect(p.fetched).toEqual([origin]);
    expect(p.delays).toEqual([
      [origin, 3000],
      [origin, 3000],
    ]);
    p.advance(3_600_001);
    expect(await p.b.check(url("/private/x.pdf"), origin)).toEqual({ allowed: true });
    expect(await p.a.check(url("/private/x.pdf"), origin)).toEqual({ allowed: true });
    expect(p.fetched).toEqual([origin, origin]);
  });

  test("an unreadable robots.txt closes the origin for both until its retry time", async () => {
    const p = twoProcesses([{ failure: "conn_error", message: "refused" }]);
    const first = await p.a.check(url("/a.pdf"), origin);
    expect(first).toMatchObject({ allowed: false, reason: "conn_error", retryAt: 1_060_000 });
    expect(await p.b.check(url("/a.pdf"), origin)).toEqual(first);
    expect(p.fetched).toEqual([origin]);
    p.advance(60_001);
    expect(await p.b.check(url("/a.pdf"), origin)).toEqual({ allowed: true }); // 404 now: allow all
    expect(p.fetched).toEqual([origin, origin]);
  });
});
