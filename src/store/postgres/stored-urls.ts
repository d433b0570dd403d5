// The library's URL index on PostgreSQL (stored_urls, migration 1): the runner's ack writes rows
// (jobs/finish.ts); these are the reads and the writes of `fetch`, which has no queue.
import type { SQL } from "bun";
import { type RecordStoredUrl, type StoredUrlRow, type StoredUrls, storedUrlOf } from "../stored-urls.ts";

export function postgresStoredUrls(sql: SQL): StoredUrls {
  return {
    async find(url) {
      const [r] = await sql<StoredUrlRow[]>`SELECT * FROM stored_urls WHERE url = ${url}`;
      return r ? storedUrlOf(r) : undefined;
    },
    async forget(url, sha256) {
      await sql`DELETE FROM stored_urls WHERE url = ${url} AND sha256 = ${sha256}`;
    },
  };
}

export function postgresRecordStoredUrl(sql: SQL): RecordStoredUrl {
  return async (e, artifactId, now) => {
    await sql`
      INSERT INTO stored_urls (url, sha256, path, bytes, kind, etag, last_modified, artifact_id, stored_at)
      VALUES (${e.url}, ${e.sha256}, ${e.path}, ${e.bytes}::bigint, ${e.kind}, ${e.etag ?? null},
              ${e.lastModified ?? null}, ${artifactId}, ${now}::bigint)
      ON CONFLICT (url) DO UPDATE SET sha256 = excluded.sha256, path = excluded.path, bytes = excluded.bytes,
        kind = excluded.kind, etag = excluded.etag, last_modified = excluded.last_modified,
        artifact_id = excluded.artifact_id, stored_at = excluded.stored_at`;
  };
}
