// The robots.txt verdict store: every kind of verdict survives the round trip; an unreadable row
// means "fetch again". Two caches sharing it: test/net/robots.test.ts.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import type { StoredRobots } from "../../src/net/robots-store.ts";
import { createRobotsSchema, sqliteRobotsStore } from "../../src/store/sqlite/robots.ts";

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
