// The metadata cache's table on PostgreSQL (http_cache, migration 2); the freshness rules stay in
// net/cache.ts. No size row kept by triggers as on SQLite: every runner would queue on it. The total
// is summed over the `bytes` column when a store looks (an index-only sum is cheap next to a
// metadata request).
import type { SQL } from "bun";
import { type CacheRow, type CacheRows, ROW_OVERHEAD_BYTES } from "../http-cache.ts";
import { num } from "./jobs/rows.ts";

const toRow = (r: Record<string, unknown>): CacheRow => ({
  status: num(r.status),
  headers: String(r.headers),
  body: r.body as Uint8Array,
  stored_at: num(r.stored_at),
  expires_at: num(r.expires_at),
  etag: (r.etag as string | null) ?? null,
  last_modified: (r.last_modified as string | null) ?? null,
});

export function postgresCacheRows(sql: SQL): CacheRows {
  return {
    async select(key) {
      const [r] = await sql<Record<string, unknown>[]>`
        SELECT status, headers, body, stored_at, expires_at, etag, last_modified FROM http_cache WHERE key = ${key}`;
      return r ? toRow(r) : null;
    },
    async upsert(key, r, pruneAt) {
      const bytes = r.body.length + r.headers.length + ROW_OVERHEAD_BYTES;
      await sql`
        INSERT INTO http_cache (key, status, headers, body, stored_at, expires_at, etag, last_modified, prune_at, bytes)
        VALUES (${key}, ${r.status}, ${r.headers}, ${r.body}, ${r.stored_at}::bigint, ${r.expires_at}::bigint,
                ${r.etag}, ${r.last_modified}, ${pruneAt}::bigint, ${bytes}::bigint)
        ON CONFLICT (key) DO UPDATE SET status = excluded.status, headers = excluded.headers, body = excluded.body,
          stored_at = excluded.stored_at, expires_at = excluded.expires_at, etag = excluded.etag,
          last_modified = excluded.last_modified, prune_at = excluded.prune_at, bytes = excluded.bytes`;
    },
    async remove(key) {
      await sql`DELETE FROM http_cache WHERE key = ${key}`;
    },
    async touch(key, r, pruneAt) {
      await sql`
        UPDATE http_cache SET headers = ${r.headers}, stored_at = ${r.stored_at}::bigint,
          expires_at = ${r.expires_at}::bigint, etag = ${r.etag}, last_modified = ${r.last_modified},
          prune_at = ${pruneAt}::bigint,
          bytes = length(body) + length(${r.headers}::text) + ${ROW_OVERHEAD_BYTES}
        WHERE key = ${key}`;
    },
    async dropDue(now, limit) {
      const rows = await sql`
        DELETE FROM http_cache WHERE key IN
          (SELECT key FROM http_cache WHERE prune_at <= ${now}::bigint ORDER BY prune_at LIMIT ${limit})
        RETURNING key`;
      return rows.length;
    },
    async totalBytes() {
      const [r] = await sql<{ bytes: string | null }[]>`SELECT sum(bytes) AS bytes FROM http_cache`;
      return num(r?.bytes ?? 0);
    },
    /** One statement: the first rows in prune order whose running total reaches `bytes`, and no more. */
    async evict(bytes, limit) {
      const rows = await sql`
        DELETE FROM http_cache WHERE key IN (
          SELECT key FROM (
            SELECT key, sum(bytes) OVER (ORDER BY prune_at, key) - bytes AS before
            FROM (SELECT key, bytes, prune_at FROM http_cache ORDER BY prune_at LIMIT ${limit}) first
          ) c WHERE before < ${bytes}::bigint)
        RETURNING key`;
      return rows.length;
    },
  };
}
