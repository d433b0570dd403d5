// The file paths the SQLite state records (outcomes.path, stored_urls.path), as `library migrate`
// rewrites them after moving files to the sharded layout: keyset pages of recorded paths, and a
// page's rewrites in one write transaction, one statement per function.
import type { Database } from "bun:sqlite";

/** The tables that record a stored file's path, each with its key. */
export type PathTable = { table: "outcomes"; key: "seq" } | { table: "stored_urls"; key: "url" };

export interface RecordedPath {
  k: number | string;
  path: string;
}

/** Up to `limit` rows with a path after key `after`, by key. */
export function recordedPathPage(
  db: Database,
  t: PathTable,
  after: number | string,
  limit: number,
): RecordedPath[] {
  return db
    .query<RecordedPath, [number | string]>(
      `SELECT ${t.key} AS k, path FROM ${t.table} WHERE ${t.key} > ?1 AND path IS NOT NULL ORDER BY ${t.key} LIMIT ${limit}`,
    )
    .all(after);
}

/** Sets one row's path; only a row still naming `from` changes (a runner may have just written a newer one). */
export function rewriteRecordedPath(
  db: Database,
  t: PathTable,
  k: number | string,
  from: string,
  to: string,
): number {
  return db.query(`UPDATE ${t.table} SET path = ?1 WHERE ${t.key} = ?2 AND path = ?3`).run(to, k, from)
    .changes;
}

/** A page's rewrites in one IMMEDIATE transaction; answers the rows changed. */
export function rewriteRecordedPaths(
  db: Database,
  t: PathTable,
  rewrites: readonly { k: number | string; from: string; to: string }[],
): number {
  let changed = 0;
  db.transaction(() => {
    for (const r of rewrites) changed += rewriteRecordedPath(db, t, r.k, r.from, r.to);
  }).immediate();
  return changed;
}
