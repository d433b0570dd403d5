// The library's index by canonical URL (SPEC 6 steps 1 and 3): which stored file a URL last
// yielded, with its validators. The runner writes rows only inside the transaction that acks the job
// that stored the file (ack.ts), so a row never names a file whose job was not committed; `fetch`,
// which has no queue, writes one once the file is durable (src/app/foreground.ts).
import type { Database } from "bun:sqlite";
import type { Maybe } from "./maybe.ts";

/** What a successful download of a canonical URL left in the library. */
export interface StoredUrlInput {
  /** Canonical URL (src/core/url.ts `canonicalUrl`). */
  url: string;
  sha256: string;
  /** Path of the content-addressed file, relative to the library root. */
  path: string;
  bytes: number;
  kind: "pdf" | "xml" | "html";
  etag?: string | null;
  lastModified?: string | null;
}

export interface StoredUrl extends StoredUrlInput {
  /** The artifact whose download stored (or re-confirmed) the file. */
  artifactId: string;
  storedAt: number;
}

/** Read side for the download glue: find an entry, or drop one found stale. */
export interface StoredUrls {
  find(url: string): Maybe<StoredUrl | undefined>;
  /** Drops the entry of `url` if it still names `sha256` (a newer entry is left alone). */
  forget(url: string, sha256: string): Maybe<void>;
}

export function createStoredUrlsSchema(db: Database): void {
  db.run(`CREATE TABLE stored_urls (
    url TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('pdf', 'xml', 'html')),
    etag TEXT,
    last_modified TEXT,
    artifact_id TEXT NOT NULL,
    stored_at INTEGER NOT NULL
  ) WITHOUT ROWID`);
}

const UPSERT = `INSERT INTO stored_urls (url, sha256, path, bytes, kind, etag, last_modified, artifact_id, stored_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
  ON CONFLICT (url) DO UPDATE SET sha256 = excluded.sha256, path = excluded.path, bytes = excluded.bytes,
    kind = excluded.kind, etag = excluded.etag, last_modified = excluded.last_modified,
    artifact_id = excluded.artifact_id, stored_at = excluded.stored_at`;

export type RecordStoredUrl = (entry: StoredUrlInput, artifactId: string, now: number) => Maybe<void>;

/** The upsert for one connection; run it inside the ack's transaction. */
export function prepareRecordStoredUrl(db: Database): RecordStoredUrl {
  const upsert = db.query(UPSERT);
  return (e, artifactId, now) => {
    upsert.run(
      e.url,
      e.sha256,
      e.path,
      e.bytes,
      e.kind,
      e.etag ?? null,
      e.lastModified ?? null,
      artifactId,
      now,
    );
  };
}

export interface StoredUrlRow {
  url: string;
  sha256: string;
  path: string;
  bytes: number;
  kind: StoredUrl["kind"];
  etag: string | null;
  last_modified: string | null;
  artifact_id: string;
  stored_at: number;
}

export function storedUrls(db: Database): StoredUrls {
  const find = db.query<StoredUrlRow, [string]>("SELECT * FROM stored_urls WHERE url = ?1");
  const forget = db.query("DELETE FROM stored_urls WHERE url = ?1 AND sha256 = ?2");
  return {
    find(url) {
      const r = find.get(url);
      return r ? storedUrlOf(r) : undefined;
    },
    forget(url, sha256) {
      forget.run(url, sha256);
    },
  };
}

/** A row as the download glue reads it. */
export function storedUrlOf(r: StoredUrlRow): StoredUrl {
  return {
    url: r.url,
    sha256: r.sha256,
    path: r.path,
    bytes: Number(r.bytes),
    kind: r.kind,
    etag: r.etag,
    lastModified: r.last_modified,
    artifactId: r.artifact_id,
    storedAt: Number(r.stored_at),
  };
}
