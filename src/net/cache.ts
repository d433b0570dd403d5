// The metadata HTTP cache (SPEC 7, an RFC 9111 subset) in SQLite: responses of role metadata only
// (artifacts are never cached), fresh per max-age / Expires / the default TTL, revalidated with
// ETag / Last-Modified, `no-store` respected. Keys are SHA-256 of the URL (of method, URL and body for
// a POST query, see `metadataCacheKey` in fetch.ts) so API keys and emails in query strings never
// rest in the database. The table is created by migration 3 (http_cache).
import type { Database } from "bun:sqlite";

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
  lookup(url: string, now: number): { entry: CachedResponse; fresh: boolean } | undefined;
  /** Store a 200 response unless it says no-store or its body is over the cap; answers whether it was stored. */
  store(url: string, status: number, headers: Headers, body: Uint8Array, now: number): boolean;
  /** A 304 revalidated `url`: take the new freshness and validators, keep the body. */
  refresh(url: string, headers: Headers, now: number): CachedResponse | undefined;
  /** Largest body stored, bytes. */
  readonly maxBodyBytes: number;
}

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

interface Row {
  status: number;
  headers: string;
  body: Uint8Array;
  stored_at: number;
  expires_at: number;
  etag: string | null;
  last_modified: string | null;
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

export function createMetadataCache(
  db: Database,
  opts: { defaultTtlMs: number; maxBodyBytes?: number },
): MetadataCache {
  const maxBodyBytes = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const select = db.query<Row, [string]>(
    "SELECT status, headers, body, stored_at, expires_at, etag, last_modified FROM http_cache WHERE key = ?",
  );
  const upsert = db.query(
    `INSERT INTO http_cache (key, status, headers, body, stored_at, expires_at, etag, last_modified)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET status = excluded.status, headers = excluded.headers, body = excluded.body,
       stored_at = excluded.stored_at, expires_at = excluded.expires_at, etag = excluded.etag,
       last_modified = excluded.last_modified`,
  );
  const remove = db.query("DELETE FROM http_cache WHERE key = ?");
  const touch = db.query(
    "UPDATE http_cache SET headers = ?, stored_at = ?, expires_at = ?, etag = ?, last_modified = ? WHERE key = ?",
  );

  const toEntry = (r: Row): CachedResponse => ({
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
    lookup(url, now) {
      const row = select.get(cacheKey(url));
      if (!row) return undefined;
      const entry = toEntry(row);
      return { entry, fresh: entry.expiresAt > now };
    },
    store(url, status, headers, body, now) {
      const key = cacheKey(url);
      const life = freshnessMs(headers, now, opts.defaultTtlMs);
      if (life === "no-store") {
        remove.run(key);
        return false;
      }
      if (status !== 200 || body.length > maxBodyBytes) return false;
      upsert.run(
        key,
        status,
        keep(headers),
        body,
        now,
        now + life,
        headers.get("etag"),
        headers.get("last-modified"),
      );
      return true;
    },
    refresh(url, headers, now) {
      const key = cacheKey(url);
      const row = select.get(key);
      if (!row) return undefined;
      const life = freshnessMs(headers, now, opts.defaultTtlMs);
      if (life === "no-store") {
        remove.run(key);
        return undefined;
      }
      // RFC 9111 4.3.4: the 304's header fields replace the stored ones they name.
      const merged = new Headers(JSON.parse(row.headers) as [string, string][]);
      for (const k of STORED_HEADERS) if (headers.has(k)) merged.set(k, headers.get(k) as string);
      const etag = headers.get("etag") ?? row.etag;
      const lastModified = headers.get("last-modified") ?? row.last_modified;
      touch.run(keep(merged), now, now + life, etag, lastModified, key);
      return toEntry({
        ...row,
        headers: keep(merged),
        stored_at: now,
        expires_at: now + life,
        etag,
        last_modified: lastModified,
      });
    },
  };
}
