// The metadata HTTP cache (SPEC 7, an RFC 9111 subset) in the state database: responses of role metadata only
// (artifacts are never cached), fresh per max-age / Expires / the default TTL, revalidated with
// ETag / Last-Modified, `no-store` respected. Keys are SHA-256 of the URL (of method, URL and body for
// a POST query, see `metadataCacheKey` in metadata-request.ts) so API keys and emails in query strings never
// rest in the database. The rows live in src/store (http-cache.ts, with sqlite/ and postgres/
// implementations); the rules deciding what is stored, for how long and what is pruned stay here.
import { Database } from "bun:sqlite";
import { type CacheRow, type CacheRows, ROW_OVERHEAD_BYTES } from "../store/http-cache.ts";
import { isPromise, type Maybe, mapMaybe } from "../store/maybe.ts";
import { sqliteCacheRows } from "../store/sqlite/http-cache.ts";

export interface CachedResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  storedAt: number;
  expiresAt: number;
  etag?: string;
  lastModified?: string;
}

export interface MetadataCache {
  /** The entry for `url` and whether it is still fresh at `now`. */
  lookup(url: string, now: number): Maybe<{ entry: CachedResponse; fresh: boolean } | undefined>;
  /** Store a 200 response unless it says no-store or its body is over the cap; answers whether it was stored. */
  store(url: string, status: number, headers: Headers, body: Uint8Array, now: number): Maybe<boolean>;
  /** A 304 revalidated `url`: take the new freshness and validators, keep the body. */
  refresh(url: string, headers: Headers, now: number): Maybe<CachedResponse | undefined>;
  /** Largest body stored, bytes. */
  readonly maxBodyBytes: number;
  /**
   * Deletes entries past their prune time (bounded work per call) and, while the cache holds more
   * than its cap, the entries that expire first. `store` calls it; answers the rows deleted.
   */
  prune(now: number): Maybe<number>;
}

/** Expired entries are looked for at most this often (each process), on a store. */
export const PRUNE_INTERVAL_MS = 60_000;
/** Rows deleted per statement, and statements per prune: the bound on one prune's work. */
const PRUNE_BATCH_ROWS = 128;
const PRUNE_MAX_BATCHES = 4;
/** Over the cap, entries go until the cache is back under this share of it (not one per store). */
const EVICT_TO_SHARE = 0.9;

/** Parsed Cache-Control directives (names lowercased; valueless directives map to ""). */
export function cacheControl(headers: Headers): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (headers.get("cache-control") ?? "").split(",")) {
    const [name = "", value = ""] = part.split("=").map((s) => s.trim());
    if (name) out.set(name.toLowerCase(), value.replace(/^"|"$/g, ""));
  }
  return out;
}

/**
 * How long a response stays fresh (ms), or "no-store". max-age (less Age) wins over Expires (taken
 * relative to Date); without either, `defaultTtlMs`. `no-cache` stores it stale: every use revalidates.
 */
export function freshnessMs(headers: Headers, now: number, defaultTtlMs: number): number | "no-store" {
  const cc = cacheControl(headers);
  if (cc.has("no-store")) return "no-store";
  if (cc.has("no-cache")) return 0;
  const age = Math.max(0, Number(headers.get("age") ?? 0) || 0) * 1000;
  const maxAge = cc.get("max-age");
  if (maxAge !== undefined) {
    const n = /^\d+$/.test(maxAge) ? Number(maxAge) * 1000 : 0;
    return Math.max(0, n - age);
  }
  const expires = headers.get("expires");
  if (expires !== null) {
    const at = Date.parse(expires);
    if (Number.isNaN(at)) return 0; // an invalid Expires means already expired (RFC 9111 5.3)
    const date = Date.parse(headers.get("date") ?? "");
    return Math.max(0, at - (Number.isNaN(date) ? now : date));
  }
  return defaultTtlMs;
}

const cacheKey = (url: string) => new Bun.CryptoHasher("sha256").update(url).digest("hex");

const STORED_HEADERS = [
  "content-type",
  "etag",
  "last-modified",
  "cache-control",
  "expires",
  "date",
  "content-language",
];

export interface MetadataCacheOptions {
  defaultTtlMs: number;
  maxBodyBytes?: number;
  /** Total size cap (network.cache_max_bytes); 0 stores nothing. */
  maxBytes?: number;
  /**
   * How long an expired entry with an ETag or Last-Modified is kept for a cheap revalidation (a 304
   * instead of the body); default `defaultTtlMs`. Entries without a validator go when they expire.
   */
  revalidateGraceMs?: number;
}

/** The cache on SQLite: every answer synchronous. */
export interface SqliteMetadataCache extends MetadataCache {
  lookup(url: string, now: number): { entry: CachedResponse; fresh: boolean } | undefined;
  store(url: string, status: number, headers: Headers, body: Uint8Array, now: number): boolean;
  refresh(url: string, headers: Headers, now: number): CachedResponse | undefined;
  prune(now: number): number;
}

/** The cache over a SQLite state database, or over the rows of another store (PostgreSQL). */
export function createMetadataCache(db: Database, opts: MetadataCacheOptions): SqliteMetadataCache;
export function createMetadataCache(db: CacheRows, opts: MetadataCacheOptions): MetadataCache;
export function createMetadataCache(db: Database | CacheRows, opts: MetadataCacheOptions): MetadataCache {
  const rows = db instanceof Database ? sqliteCacheRows(db) : db;
  const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  const maxBodyBytes = Math.min(opts.maxBodyBytes ?? 8 * 1024 * 1024, maxBytes);
  const graceMs = opts.revalidateGraceMs ?? opts.defaultTtlMs;
  const pruneAt = (expiresAt: number, etag: string | null, lastModified: string | null) =>
    etag !== null || lastModified !== null ? expiresAt + graceMs : expiresAt;
  let lastDuePrune = Number.NEGATIVE_INFINITY;

  const evictOver = (deleted: number): Maybe<number> =>
    mapMaybe(rows.totalBytes(), (size) => {
      if (size <= maxBytes) return deleted;
      const excess = size - Math.floor(maxBytes * EVICT_TO_SHARE);
      return mapMaybe(rows.evict(excess, PRUNE_BATCH_ROWS * PRUNE_MAX_BATCHES), (n) => deleted + n);
    }) as Maybe<number>;

  const prune = (now: number): Maybe<number> => {
    if (now - lastDuePrune < PRUNE_INTERVAL_MS) return evictOver(0);
    lastDuePrune = now;
    const first = rows.dropDue(now, PRUNE_BATCH_ROWS);
    if (isPromise(first)) {
      return (async () => {
        let deleted = await first;
        let n = deleted;
        for (let batches = 1; batches < PRUNE_MAX_BATCHES && n >= PRUNE_BATCH_ROWS; batches++) {
          n = await rows.dropDue(now, PRUNE_BATCH_ROWS);
          deleted += n;
        }
        return await evictOver(deleted);
      })();
    }
    let deleted = first;
    let n = first;
    for (let batches = 1; batches < PRUNE_MAX_BATCHES && n >= PRUNE_BATCH_ROWS; batches++) {
      n = rows.dropDue(now, PRUNE_BATCH_ROWS) as number;
      deleted += n;
    }
    return evictOver(deleted);
  };

  const toEntry = (r: CacheRow): CachedResponse => ({
    status: r.status,
    headers: new Headers(JSON.parse(r.headers) as [string, string][]),
    body: new Uint8Array(r.body),
    storedAt: r.stored_at,
    expiresAt: r.expires_at,
    etag: r.etag ?? undefined,
    lastModified: r.last_modified ?? undefined,
  });
  const keep = (headers: Headers) =>
    JSON.stringify(STORED_HEADERS.flatMap((k) => (headers.has(k) ? [[k, headers.get(k) as string]] : [])));

  return {
    maxBodyBytes,
    prune,
    lookup(url, now) {
      return mapMaybe(rows.select(cacheKey(url)), (row) => {
        if (!row) return undefined;
        const entry = toEntry(row);
        return { entry, fresh: entry.expiresAt > now };
      });
    },
    store(url, status, headers, body, now) {
      const key = cacheKey(url);
      const life = freshnessMs(headers, now, opts.defaultTtlMs);
      if (life === "no-store") return mapMaybe(rows.remove(key), () => false);
      if (status !== 200 || body.length > maxBodyBytes) return false;
      const kept = keep(headers);
      if (body.length + kept.length + ROW_OVERHEAD_BYTES > maxBytes) return false;
      const etag = headers.get("etag");
      const lastModified = headers.get("last-modified");
      const row: CacheRow = {
        status,
        headers: kept,
        body,
        stored_at: now,
        expires_at: now + life,
        etag,
        last_modified: lastModified,
      };
      const written = rows.upsert(key, row, pruneAt(now + life, etag, lastModified));
      return mapMaybe(written, () => mapMaybe(prune(now), () => true)) as Maybe<boolean>;
    },
    refresh(url, headers, now) {
      const key = cacheKey(url);
      return mapMaybe(rows.select(key), (row) => {
        if (!row) return undefined;
        const life = freshnessMs(headers, now, opts.defaultTtlMs);
        if (life === "no-store") return mapMaybe(rows.remove(key), () => undefined);
        // RFC 9111 4.3.4: the 304's header fields replace the stored ones they name.
        const merged = new Headers(JSON.parse(row.headers) as [string, string][]);
        for (const k of STORED_HEADERS) if (headers.has(k)) merged.set(k, headers.get(k) as string);
        const next = {
          headers: keep(merged),
          stored_at: now,
          expires_at: now + life,
          etag: headers.get("etag") ?? row.etag,
          last_modified: headers.get("last-modified") ?? row.last_modified,
        };
        const written = rows.touch(key, next, pruneAt(next.expires_at, next.etag, next.last_modified));
        return mapMaybe(written, () => toEntry({ ...row, ...next }));
      }) as Maybe<CachedResponse | undefined>;
    },
  };
}
