// The metadata cache's table as the store offers it (SQLite in sqlite/http-cache.ts, PostgreSQL in
// postgres/http-cache.ts): rows keyed by the SHA-256 of a request, one statement per operation. The
// freshness rules above them (net/cache.ts) decide what is stored, for how long, and what is pruned.
import type { Maybe } from "./maybe.ts";

/** One stored entry as the cache's table holds it. */
export interface CacheRow {
  status: number;
  /** The kept headers as JSON pairs. */
  headers: string;
  body: Uint8Array;
  stored_at: number;
  expires_at: number;
  etag: string | null;
  last_modified: string | null;
}

/** The cache's table, one statement per operation. */
export interface CacheRows {
  select(key: string): Maybe<CacheRow | null>;
  upsert(key: string, row: CacheRow, pruneAt: number): Maybe<void>;
  remove(key: string): Maybe<void>;
  /** A revalidated entry: new headers, times and validators, the body kept. */
  touch(key: string, row: Omit<CacheRow, "status" | "body">, pruneAt: number): Maybe<void>;
  /** Deletes up to `limit` entries whose prune time has passed; answers how many. */
  dropDue(now: number, limit: number): Maybe<number>;
  /** The cache's total size as it counts against the cap. */
  totalBytes(): Maybe<number>;
  /** Deletes the entries that go first (prune order) until `bytes` are gone or `limit` rows; answers how many. */
  evict(bytes: number, limit: number): Maybe<number>;
}

/** Key, times, validators and SQLite's record and index overhead of one row, roughly. */
export const ROW_OVERHEAD_BYTES = 256;
