// Contracts of the smaller shared stores — robots verdicts, the stored-URL index, quota counters and
// the metadata cache (its rows under the freshness rules and the size cap) — run on SQLite and on
// PostgreSQL, with no mock of either database.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { createMetadataCache } from "../../src/net/cache.ts";
import type { RobotsStore } from "../../src/net/robots-store.ts";
import { openStateDatabase } from "../../src/store/db.ts";
import type { CacheRows } from "../../src/store/http-cache.ts";
import { postgresCacheRows } from "../../src/store/postgres/http-cache.ts";
import { migratePostgres } from "../../src/store/postgres/migrations.ts";
import { postgresRobotsStore } from "../../src/store/postgres/robots.ts";
import { postgresRecordStoredUrl, postgresStoredUrls } from "../../src/store/postgres/stored-urls.ts";
import { postgresUsageStore } from "../../src/store/postgres/usage.ts";
import { sqliteCacheRows } from "../../src/store/sqlite/http-cache.ts";
import { sqliteRobotsStore } from "../../src/store/sqlite/robots.ts";
import {
  prepareRecordStoredUrl,
  type RecordStoredUrl,
  type StoredUrls,
  storedUrls,
} from "../../src/store/stored-urls.ts";
import { sqliteUsageStore, type UsageStore } from "../../src/store/usage.ts";
import { startTestPostgres } from "../support/postgres.ts";

interface Stores {
  robots: RobotsStore;
  urls: StoredUrls;
  record: RecordStoredUrl;
  usage: UsageStore;
  cacheRows: CacheRows;
  close(): Promise<void>;
}

function describeSharedStores(name: string, open: () => Promise<Stores>): void {
  describe(`shared stores: ${name}`, () => {
    test("robots verdicts round-trip; a newer verdict replaces the older", async () => {
      const s = await open();
      try {
        expect(await s.robots.get("https://a.test")).toBeUndefined();
        await s.robots.put("https://a.test", { kind: "allow_all", expires: 10 });
        const failure = { reason: "http_503" as never, message: "down" };
        await s.robots.put("https://a.test", { kind: "unavailable", failure, expires: 20 });
        expect(await s.robots.get("https://a.test")).toEqual({ kind: "unavailable", failure, expires: 20 });
      } finally {
        await s.close();
      }
    });

    test("stored URLs: recorded, found, forgotten only while they name the same file", async () => {
      const s = await open();
      try {
        const e = {
          url: "https://h.test/a.pdf",
          sha256: "aa",
          path: "by-sha/aa.pdf",
          bytes: 5,
          kind: "pdf" as const,
        };
        await s.record(e, "doi:10.1/a", 100);
        expect(await s.urls.find(e.url)).toMatchObject({
          sha256: "aa",
          bytes: 5,
          artifactId: "doi:10.1/a",
          storedAt: 100,
        });
        await s.urls.forget(e.url, "bb");
        expect((await s.urls.find(e.url))?.sha256).toBe("aa");
        await s.urls.forget(e.url, "aa");
        expect(await s.urls.find(e.url)).toBeUndefined();
      } finally {
        await s.close();
      }
    });

    test("usage: concurrent adds to one day's row are all counted; exhaustion only moves later", async () => {
      const s = await open();
      try {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            s.usage.add({
              source: "openalex",
              day: "2026-03-02",
              requests: 1,
              costUsd: 0.5,
              exhaustedUntil: i === 3 ? 500 : 100,
              now: i,
            }),
          ),
        );
        const row = await s.usage.read("openalex", "2026-03-02");
        expect(row).toMatchObject({ requests: 10, cost_usd: 5, exhausted_until: 500 });
        expect((await s.usage.ofDay("2026-03-02")).map((r) => r.source)).toEqual(["openalex"]);
      } finally {
        await s.close();
      }
    });

    test("metadata cache: fresh hit, revalidation keeps the body, the size cap evicts the first to go", async () => {
      const s = await open();
      try {
        const cache = createMetadataCache(s.cacheRows, { defaultTtlMs: 1000, maxBytes: 4000 });
        const h = new Headers({ "cache-control": "max-age=10", etag: '"v1"' });
        expect(await cache.store("https://api.test/1", 200, h, new Uint8Array(1000), 0)).toBe(true);
        expect((await cache.lookup("https://api.test/1", 5000))?.fresh).toBe(true);
        expect((await cache.lookup("https://api.test/1", 20_000))?.fresh).toBe(false);
        const r = await cache.refresh(
          "https://api.test/1",
          new Headers({ "cache-control": "max-age=100" }),
          20_000,
        );
        expect([r?.body.length, r?.etag, r?.expiresAt]).toEqual([1000, '"v1"', 120_000]);
        for (let i = 2; i <= 5; i++)
          await cache.store(
            `https://api.test/${i}`,
            200,
            new Headers({ "cache-control": `max-age=${i * 100}` }),
            new Uint8Array(1000),
            20_000,
          );
        // Over the 4000-byte cap: the entries that expire first went (the refreshed one among them).
        expect((await cache.lookup("https://api.test/5", 20_000))?.entry.body.length).toBe(1000);
        expect(await cache.lookup("https://api.test/1", 20_000)).toBeUndefined();
      } finally {
        await s.close();
      }
    });
  });
}

describeSharedStores("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "docstokg-shared-"));
  const db = openStateDatabase(dir);
  return {
    robots: sqliteRobotsStore(db),
    urls: storedUrls(db),
    record: prepareRecordStoredUrl(db),
    usage: sqliteUsageStore(db),
    cacheRows: sqliteCacheRows(db),
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const pg = await startTestPostgres();
afterAll(async () => {
  await pg?.stop();
}, 60_000); // stopping a cluster can take a while on a loaded machine
if (pg) {
  describeSharedStores("postgres", async () => {
    const sql = new SQL({ url: await pg.createDatabase("shared"), max: 4 });
    await migratePostgres(sql);
    return {
      robots: postgresRobotsStore(sql),
      urls: postgresStoredUrls(sql),
      record: postgresRecordStoredUrl(sql),
      usage: postgresUsageStore(sql),
      cacheRows: postgresCacheRows(sql),
      close: () => sql.close(),
    };
  });
} else {
  describe.skip("shared stores: postgres (PostgreSQL not installed)", () => {
    test("skipped", () => {});
  });
}
