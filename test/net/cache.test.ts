// The metadata HTTP cache: freshness rules, the SQLite table from migration 3, and the client's
// fresh / stale / revalidate / no-store paths against a loopback API host (fresh hits spend no
// token and send no request; artifacts are never cached).
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config/schema.ts";
import { cacheControl, createMetadataCache, freshnessMs } from "../../src/net/cache.ts";
import { createHttpClient } from "../../src/net/fetch.ts";
import type { HttpResult } from "../../src/net/types.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { MemoryPoliteness } from "../support/politeness.ts";
import { startWeb } from "../support/web.ts";

function migratedDb(): Database {
  const db = new Database(":memory:");
  const m = MIGRATIONS.find((m) => m.name === "http_cache");
  expect(m?.version).toBe(3);
  m?.up(db);
  MIGRATIONS.find((m) => m.name === "http_cache_bounds")?.up(db);
  return db;
}

const H = (o: Record<string, string>) => new Headers(o);

describe("freshnessMs", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  const ttl = 86_400_000;
  const cases: [Record<string, string>, number | "no-store"][] = [
    [{}, ttl],
    [{ "cache-control": "max-age=60" }, 60_000],
    [{ "cache-control": "public, max-age=60", age: "15" }, 45_000],
    [{ "cache-control": "max-age=10", age: "30" }, 0],
    [{ "cache-control": "no-store" }, "no-store"],
    [{ "cache-control": "private, No-Store" }, "no-store"],
    [{ "cache-control": "no-cache" }, 0],
    [{ "cache-control": "max-age=soon" }, 0],
    [{ expires: "Thu, 26 Nov 2026 12:10:00 GMT" }, 600_000],
    [{ expires: "Thu, 26 Nov 2026 12:10:00 GMT", date: "Thu, 26 Nov 2026 12:05:00 GMT" }, 300_000],
    [{ expires: "0" }, 0],
    [{ expires: "Thu, 26 Nov 2026 12:10:00 GMT", "cache-control": "max-age=5" }, 5_000],
  ];
  for (const [headers, want] of cases) {
    test(`${JSON.stringify(headers)} → ${want}`, () => expect(freshnessMs(H(headers), now, ttl)).toBe(want));
  }
  test("directive parsing keeps quoted values", () => {
    expect(cacheControl(H({ "cache-control": 'max-age="30", private' })).get("max-age")).toBe("30");
  });
});

describe("store", () => {
  test("stores 200s, serves them fresh then stale, and refreshes on a 304", () => {
    const cache = createMetadataCache(migratedDb(), { defaultTtlMs: 1000 });
    const url = "https://api.example/works/1?api_key=SECRET";
    const body = new TextEncoder().encode('{"a":1}');
    expect(cache.store(url, 200, H({ "content-type": "application/json", etag: '"v1"' }), body, 0)).toBe(
      true,
    );
    expect(cache.lookup(url, 999)).toMatchObject({ fresh: true, entry: { status: 200, etag: '"v1"' } });
    expect(cache.lookup(url, 1000)?.fresh).toBe(false);
    const r = cache.refresh(url, H({ "cache-control": "max-age=5", etag: '"v2"' }), 2000);
    expect(r).toMatchObject({ etag: '"v2"', expiresAt: 7000 });
    expect(new TextDecoder().decode(r?.body)).toBe('{"a":1}');
    expect(cache.lookup(url, 6999)?.fresh).toBe(true);
    expect(cache.lookup(url, 6999)?.entry.headers.get("content-type")).toBe("application/json");
  });

  test("no-store deletes, non-200 and over-cap bodies are not stored, URLs are not kept in clear", () => {
    const db = migratedDb();
    const cache = createMetadataCache(db, { defaultTtlMs: 1000, maxBodyBytes: 10 });
    const url = "https://api.example/v2/10.1/x?email=me@example.org";
    expect(cache.store(url, 200, H({}), new Uint8Array(5), 0)).toBe(true);
    expect(cache.store(url, 200, H({ "cache-control": "no-store" }), new Uint8Array(5), 1)).toBe(false);
    expect(cache.lookup(url, 2)).toBeUndefined();
    expect(cache.store(url, 404, H({}), new Uint8Array(5), 0)).toBe(false);
    expect(cache.store(url, 200, H({}), new Uint8Array(11), 0)).toBe(false);
    cache.store(url, 200, H({}), new Uint8Array(5), 0);
    const keys = db.query<{ key: string }, []>("SELECT key FROM http_cache").all();
    expect(keys).toHaveLength(1);
    expect(keys[0]?.key).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("through the client", async () => {
  const web = await startWeb();
  afterAll(() => web.stop());
  const api = await web.host({ name: "api.test" });
  let version = 1;
  api.route("/fresh", () => Response.json({ v: version }, { headers: { "cache-control": "max-age=60" } }));
  api.route("/etag", (req) => {
    if (req.headers.get("if-none-match") === `"v${version}"`) {
      return new Response(null, {
        status: 304,
        headers: { etag: `"v${version}"`, "cache-control": "max-age=60" },
      });
    }
    return Response.json(
      { v: version },
      { headers: { etag: `"v${version}"`, "cache-control": "max-age=60" } },
    );
  });
  api.route("/lm", (req) => {
    const lm = "Wed, 25 Nov 2026 10:00:00 GMT";
    if (req.headers.get("if-modified-since") === lm) return new Response(null, { status: 304 });
    return Response.json({ v: version }, { headers: { "last-modified": lm, "cache-control": "no-cache" } });
  });
  // A search that takes a JSON body (figshare): answers with what it was asked.
  api.route("/search", async (req) =>
    req.method === "POST"
      ? Response.json({ asked: await req.json(), v: version }, { headers: { "cache-control": "max-age=60" } })
      : new Response("method not allowed", { status: 405 }),
  );
  api.route("/nostore", () => Response.json({ v: version }, { headers: { "cache-control": "no-store" } }));
  api.pdf("/file.pdf");

  let t = Date.parse("2026-11-26T12:00:00Z");
  const politeness = new MemoryPoliteness();
  const config = defaultConfig();
  config.network.allow_private = ["127.0.0.0/8"];
  const c = createHttpClient({
    config,
    politeness,
    version: "1",
    now: () => t,
    lookup: web.lookup,
    cache: createMetadataCache(migratedDb(), { defaultTtlMs: 60_000 }),
  });
  const json = async (r: HttpResult) => {
    expect(r.ok).toBe(true);
    return r.ok ? await new Response(r.response.body).json() : undefined;
  };

  test("a fresh hit sends nothing and spends no token; expiry fetches again", async () => {
    const url = api.namedUrl("/fresh");
    expect(await json(await c.request({ url, role: "metadata" }))).toEqual({ v: 1 });
    const acquires = politeness.acquires.length;
    version = 2;
    const hit = await c.request({ url: `${url}#ignored`, role: "metadata" });
    expect(await json(hit)).toEqual({ v: 1 });
    if (hit.ok) expect(hit.response.rateWaitMs).toBe(0);
    expect(politeness.acquires.length).toBe(acquires);
    expect(api.hits("/fresh")).toHaveLength(1);
    t += 61_000;
    expect(await json(await c.request({ url, role: "metadata" }))).toEqual({ v: 2 });
    expect(api.hits("/fresh")).toHaveLength(2);
    version = 1;
  });

  test("a stale entry is revalidated with If-None-Match; 304 serves the cached body", async () => {
    const url = api.namedUrl("/etag");
    expect(await json(await c.request({ url, role: "metadata" }))).toEqual({ v: 1 });
    t += 61_000;
    const again = await c.request({ url, role: "metadata" });
    expect(again.ok && again.response.status).toBe(200);
    expect(await json(again)).toEqual({ v: 1 });
    expect(api.hits("/etag")[1]?.headers.get("if-none-match")).toBe('"v1"');
    // The 304 renewed freshness: no request within the new max-age.
    t += 30_000;
    expect(await json(await c.request({ url, role: "metadata" }))).toEqual({ v: 1 });
    expect(api.hits("/etag")).toHaveLength(2);
    // A changed resource answers 200 and replaces the entry.
    version = 3;
    t += 61_000;
    expect(await json(await c.request({ url, role: "metadata" }))).toEqual({ v: 3 });
    version = 1;
  });

  test("no-cache revalidates every time with If-Modified-Since", async () => {
    const url = api.namedUrl("/lm");
    await json(await c.request({ url, role: "metadata" }));
    expect(await json(await c.request({ url, role: "metadata" }))).toEqual({ v: 1 });
    expect(api.hits("/lm")).toHaveLength(2);
    expect(api.hits("/lm")[1]?.headers.get("if-modified-since")).toBe("Wed, 25 Nov 2026 10:00:00 GMT");
  });

  test("no-store responses are fetched every time", async () => {
    const url = api.namedUrl("/nostore");
    await json(await c.request({ url, role: "metadata" }));
    await json(await c.request({ url, role: "metadata" }));
    expect(api.hits("/nostore")).toHaveLength(2);
  });

  test("a POST is sent with its body and cached by method, URL and body", async () => {
    const url = api.namedUrl("/search");
    const post = (q: string) =>
      c.request({
        url,
        role: "metadata",
        method: "POST",
        body: JSON.stringify({ search_for: q }),
        headers: { "content-type": "application/json" },
      });
    expect(await json(await post("a"))).toEqual({ asked: { search_for: "a" }, v: 1 });
    version = 2;
    // The same query is answered from the cache; another body is another entry.
    expect(await json(await post("a"))).toEqual({ asked: { search_for: "a" }, v: 1 });
    expect(await json(await post("b"))).toEqual({ asked: { search_for: "b" }, v: 2 });
    expect(api.hits("/search").map((h) => h.method)).toEqual(["POST", "POST"]);
    // A GET of the same URL is not the POST's entry.
    const get = await c.request({ url, role: "metadata" });
    expect(get.ok ? 0 : get.status).toBe(405);
    // Stale: asked again (no validators sent for a query).
    t += 61_000;
    expect(await json(await post("a"))).toEqual({ asked: { search_for: "a" }, v: 2 });
    expect(api.hits("/search")[3]?.headers.get("if-none-match")).toBeNull();
    version = 1;
  });

  test("artifacts are never cached", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await c.request({ url: api.namedUrl("/file.pdf"), role: "artifact" });
      if (r.ok) await new Response(r.response.body).arrayBuffer();
    }
    expect(api.hits("/file.pdf")).toHaveLength(2);
    expect(politeness.held()).toBe(0);
  });
});
