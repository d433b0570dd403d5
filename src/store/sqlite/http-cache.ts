// The metadata cache's table on SQLite: created by migration 3 (http_cache, in migrations.ts), bounded
// by migration 9 (prune times, the total size kept exact by triggers), one statement per function.
// The freshness rules stay in net/cache.ts.
import type { Database } from "bun:sqlite";
import { type CacheRow, type CacheRows, ROW_OVERHEAD_BYTES } from "../http-cache.ts";

/** What an entry counts against `network.cache_max_bytes`: body, kept headers, and the row around them. */
const ENTRY_BYTES_SQL = (row: "NEW" | "OLD") =>
  `(length(${row}.body) + length(${row}.headers) + ${ROW_OVERHEAD_BYTES})`;

/**
 * Migration 9: a prune time per entry (its expiry, or later for an entry that can still be
 * revalidated), an index to find the next ones to go without a scan, and the cache's total size in
 * one row kept exact by triggers, so that every process writing the cache sees the same total.
 */
export function boundHttpCache(db: Database): void {
  db.run("ALTER TABLE http_cache ADD COLUMN prune_at INTEGER NOT NULL DEFAULT 0");
  db.run("UPDATE http_cache SET prune_at = expires_at");
  db.run("CREATE INDEX http_cache_prune ON http_cache (prune_at)");
  db.run(`CREATE TABLE http_cache_size (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    bytes INTEGER NOT NULL
  )`);
  db.run(
    `INSERT INTO http_cache_size (id, bytes)
     SELECT 1, coalesce(sum(length(body) + length(headers) + ${ROW_OVERHEAD_BYTES}), 0) FROM http_cache`,
  );
  db.run(`CREATE TRIGGER http_cache_size_insert AFTER INSERT ON http_cache BEGIN
    UPDATE http_cache_size SET bytes = bytes + ${ENTRY_BYTES_SQL("NEW")} WHERE id = 1;
  END`);
  db.run(`CREATE TRIGGER http_cache_size_delete AFTER DELETE ON http_cache BEGIN
    UPDATE http_cache_size SET bytes = bytes - ${ENTRY_BYTES_SQL("OLD")} WHERE id = 1;
  END`);
  db.run(`CREATE TRIGGER http_cache_size_update AFTER UPDATE OF body, headers ON http_cache BEGIN
    UPDATE http_cache_size SET bytes = bytes - ${ENTRY_BYTES_SQL("OLD")} + ${ENTRY_BYTES_SQL("NEW")} WHERE id = 1;
  END`);
}

export function selectCacheRow(db: Database, key: string): CacheRow | null {
  return db
    .query<CacheRow, [string]>(
      "SELECT status, headers, body, stored_at, expires_at, etag, last_modified FROM http_cache WHERE key = ?",
    )
    .get(key);
}

export function upsertCacheRow(db: Database, key: string, r: CacheRow, pruneAt: number): void {
  db.query(
    `INSERT INTO http_cache (key, status, headers, body, stored_at, expires_at, etag, last_modified, prune_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET status = excluded.status, headers = excluded.headers, body = excluded.body,
       stored_at = excluded.stored_at, expires_at = excluded.expires_at, etag = excluded.etag,
       last_modified = excluded.last_modified, prune_at = excluded.prune_at`,
  ).run(key, r.status, r.headers, r.body, r.stored_at, r.expires_at, r.etag, r.last_modified, pruneAt);
}

export function deleteCacheRow(db: Database, key: string): void {
  db.query("DELETE FROM http_cache WHERE key = ?").run(key);
}

/** A revalidated entry: new headers, times and validators, the body kept. */
export function touchCacheRow(
  db: Database,
  key: string,
  r: Omit<CacheRow, "status" | "body">,
  pruneAt: number,
): void {
  db.query(
    `UPDATE http_cache SET headers = ?, stored_at = ?, expires_at = ?, etag = ?, last_modified = ?, prune_at = ?
     WHERE key = ?`,
  ).run(r.headers, r.stored_at, r.expires_at, r.etag, r.last_modified, pruneAt, key);
}

// Both walk the prune_at index from its start: the next rows to go are found without a scan.

/** Deletes up to `limit` entries whose prune time has passed; answers how many. */
export function deleteDueCacheRows(db: Database, now: number, limit: number): number {
  return db
    .query<unknown, [number, number]>(
      `DELETE FROM http_cache WHERE key IN
       (SELECT key FROM http_cache WHERE prune_at <= ? ORDER BY prune_at LIMIT ?)`,
    )
    .run(now, limit).changes;
}

/** The first `limit` entries in prune order with what each counts against the cap. */
export function cacheRowsToGo(db: Database, limit: number): { key: string; bytes: number }[] {
  return db
    .query<{ key: string; bytes: number }, [number]>(
      `SELECT key, length(body) + length(headers) + ${ROW_OVERHEAD_BYTES} AS bytes
     FROM http_cache ORDER BY prune_at LIMIT ?`,
    )
    .all(limit);
}

/** The total kept by migration 9's triggers. */
export function cacheTotalBytes(db: Database): number {
  return db.query<{ bytes: number }, []>("SELECT bytes FROM http_cache_size WHERE id = 1").get()?.bytes ?? 0;
}

/** The SQLite table of migrations 3 and 9 (the size kept by triggers). */
export function sqliteCacheRows(db: Database): CacheRows {
  return {
    select: (key) => selectCacheRow(db, key),
    upsert(key, r, pruneAt) {
      upsertCacheRow(db, key, r, pruneAt);
    },
    remove(key) {
      deleteCacheRow(db, key);
    },
    touch(key, r, pruneAt) {
      touchCacheRow(db, key, r, pruneAt);
    },
    dropDue: (now, limit) => deleteDueCacheRows(db, now, limit),
    totalBytes: () => cacheTotalBytes(db),
    evict(bytes, limit) {
      // Entries one by one in prune order, until enough bytes are gone (rows differ a lot in size).
      let excess = bytes;
      let deleted = 0;
      db.transaction(() => {
        for (const row of cacheRowsToGo(db, limit)) {
          deleteCacheRow(db, row.key);
          deleted++;
          excess -= row.bytes;
          if (excess <= 0) break;
        }
      })();
      return deleted;
    },
  };
}
