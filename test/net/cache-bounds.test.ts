// The metadata cache stays bounded: expired entries are pruned (an entry that can still be
// revalidated after a grace), bounded work per prune, and a total size cap (network.cache_max_bytes)
// kept exact across processes by triggers, evicting the entries that expire first. A temp database
// file and a fake clock (every call takes `now`).
import type { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/schema.ts";
import { createMetadataCache, PRUNE_INTERVAL_MS } from "../../src/net/cache.ts";
import { openDatabase } from "../../src/store/db.ts";
import { ROW_OVERHEAD_BYTES } from "../../src/store/http-cache.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";

const dirs: string[] = [];
const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDbPath(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), "cache-bounds-"));
  dirs.push(dir);
  return join(dir, "state.sqlite");
}

function tempDb(path = tempDbPath()): Database {
  const db = openDatabase(path);
  open.push(db);
  return db;
}

const T0 = Date.parse("2026-12-01T00:00:00Z");
const H = (o: Record<string, string> = {}) => new Headers(o);
const body = (n: number) => new Uint8Array(n).fill(0x7b);
const rows = (db: Database) => db.query<{ n: number }, []>("SELECT count(*) AS n FROM http_cache").get()?.n;
const accounted = (db: Database) =>
  db.query<{ bytes: number }, []>("SELECT bytes FROM http_cache_size").get()?.bytes;
const actual = (db: Database) =>
  db
    .query<{ bytes: number }, []>(
      `SELECT coalesce(sum(length(body) + length(headers) + ${ROW_OVERHEAD_BYTES}), 0) AS bytes FROM http_cache`,
    )
    .get()?.bytes;

test("the default cap is 256 MiB", () => {
  expect(defaultConfig().network.cache_max_bytes).toBe(256 * 1024 * 1024);
});

describe("expired entries", () => {
  test("go on a later store; one with a validator is kept a grace for revalidation first", () => {
    const db = tempDb();
    const cache = createMetadataCache(db, { defaultTtlMs: 60_000, revalidateGraceMs: 600_000 });
    cache.store("https://api.test/plain", 200, H({ "cache-control": "max-age=10" }), body(10), T0);
    cache.store(
      "https://api.test/etag",
      200,
      H({ "cache-control": "max-age=10", etag: '"1"' }),
      body(10),
      T0,
    );
    expect(rows(db)).toBe(2);

    // Expired, but the next look for expired entries is one interval after the first.
    const later = T0 + PRUNE_INTERVAL_MS;
    cache.store("https://api.test/other", 200, H(), body(10), later);
    expect(cache.lookup("https://api.test/plain", later)).toBeUndefined();
    // Stale, still there: a 304 can renew it without the body.
    expect(cache.lookup("https://api.test/etag", later)).toMatchObject({
      fresh: false,
      entry: { etag: '"1"' },
    });

    const pastGrace = T0 + 10_000 + 600_000 + PRUNE_INTERVAL_MS;
    expect(cache.prune(pastGrace)).toBe(2); // the etag entry and "other" (60 s default TTL)
    expect(rows(db)).toBe(0);
    expect(accounted(db)).toBe(0);
  });

  test("one prune deletes a bounded number of rows; the next ones continue", () => {
    const db = tempDb();
    const cache = createMetadataCache(db, { defaultTtlMs: 1000 });
    db.transaction(() => {
      for (let i = 0; i < 1500; i++)
        cache.store(`https://api.test/w/${i}`, 200, H(), body(1), T0 - 2 * PRUNE_INTERVAL_MS);
    })();
    const first = cache.prune(T0);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(512);
    expect(cache.prune(T0 + 1)).toBe(0); // not yet due again
    let left = rows(db) as number;
    for (let t = T0 + PRUNE_INTERVAL_MS; left > 0; t += PRUNE_INTERVAL_MS) {
      cache.prune(t);
      const now = rows(db) as number;
      expect(now).toBeLessThan(left);
      left = now;
    }
    expect(accounted(db)).toBe(0);
  });
});

describe("the size cap", () => {
  const KiB = 1024;
  test("holds the total under network.cache_max_bytes, evicting the entries that expire first", () => {
    const db = tempDb();
    const cap = 100 * KiB;
    const cache = createMetadataCache(db, { defaultTtlMs: 3_600_000, maxBytes: cap });
    // Entry i is fresh for (i + 1) minutes: the low numbers expire first.
    for (let i = 0; i < 30; i++) {
      const stored = cache.store(
        `https://api.test/w/${i}`,
        200,
        H({ "cache-control": `max-age=${(i + 1) * 60}` }),
        body(10 * KiB),
        T0 + i,
      );
      expect(stored).toBe(true);
      expect(accounted(db)).toBeLessThanOrEqual(cap);
    }
    expect(accounted(db)).toBe(actual(db));
    const kept = Array.from(
      { length: 30 },
      (_, i) => cache.lookup(`https://api.test/w/${i}`, T0 + 30) !== undefined,
    );
    const firstKept = kept.indexOf(true);
    expect(firstKept).toBeGreaterThan(0);
    expect(kept.slice(firstKept).every(Boolean)).toBe(true); // only the earliest-expiring went
    expect(kept[29]).toBe(true);
  });

  test("a body larger than the cap is not stored; a cap of 0 stores nothing", () => {
    const db = tempDb();
    const small = createMetadataCache(db, { defaultTtlMs: 60_000, maxBytes: 4 * KiB });
    expect(small.store("https://api.test/big", 200, H(), body(5 * KiB), T0)).toBe(false);
    expect(small.store("https://api.test/ok", 200, H(), body(KiB), T0)).toBe(true);
    const off = createMetadataCache(db, { defaultTtlMs: 60_000, maxBytes: 0 });
    expect(off.maxBodyBytes).toBe(0);
    expect(off.store("https://api.test/tiny", 200, H(), body(0), T0)).toBe(false);
    expect(rows(db)).toBe(1);
  });

  test("two processes on one database see one total, kept exact through replace, refresh and delete", () => {
    const path = tempDbPath();
    const a = createMetadataCache(tempDb(path), { defaultTtlMs: 60_000, maxBytes: 60 * KiB });
    const bDb = tempDb(path);
    const b = createMetadataCache(bDb, { defaultTtlMs: 60_000, maxBytes: 60 * KiB });
    for (let i = 0; i < 4; i++) a.store(`https://api.test/a/${i}`, 200, H(), body(10 * KiB), T0);
    for (let i = 0; i < 4; i++) b.store(`https://api.test/b/${i}`, 200, H(), body(10 * KiB), T0);
    expect(accounted(bDb)).toBeLessThanOrEqual(60 * KiB);
    a.store("https://api.test/b/3", 200, H({ etag: '"x"' }), body(2 * KiB), T0 + 1); // replace
    b.refresh("https://api.test/b/3", H({ "content-language": "en" }), T0 + 2);
    b.store("https://api.test/b/3", 200, H({ "cache-control": "no-store" }), body(1), T0 + 3); // delete
    expect(accounted(bDb)).toBe(actual(bDb));
  });
});

test("migration 9 (http_cache_bounds) accounts for the entries an older database already holds", () => {
  const path = tempDbPath();
  const old = openDatabase(path, {
    migrations: MIGRATIONS.filter((m) => m.name !== "http_cache_bounds" && m.version < 9),
  });
  old
    .query(
      `INSERT INTO http_cache (key, status, headers, body, stored_at, expires_at, etag, last_modified)
     VALUES ('k1', 200, '[]', ?, 0, ?, NULL, NULL), ('k2', 200, '[]', ?, 0, ?, NULL, NULL)`,
    )
    .run(body(1000), T0 - 1, body(500), T0 + 60_000);
  old.close();
  const db = tempDb(path);
  expect(accounted(db)).toBe(1500 + 2 * (2 + ROW_OVERHEAD_BYTES));
  expect(createMetadataCache(db, { defaultTtlMs: 1000 }).prune(T0)).toBe(1);
  expect(rows(db)).toBe(1);
});
