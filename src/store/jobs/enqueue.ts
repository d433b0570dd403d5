// Adding jobs: INSERT … ON CONFLICT on the unique artifact id, so importing the same work twice
// adds nothing. Rows go in as multi-row statements inside one transaction per batch: per-statement
// overhead, not the B-tree, dominates bulk inserts, and `changes` still counts exactly what was new.
import type { Database, SQLQueryBindings } from "bun:sqlite";
import type { Artifact } from "../../artifact/artifact.ts";
import type { EnqueueResult } from "../types.ts";

/** Rows per INSERT statement (3 bound values each, far below SQLite's variable limit). */
export const ROWS_PER_STATEMENT = 32;

function insertSql(rows: number): string {
  const values: string[] = [];
  for (let r = 0; r < rows; r++) values.push(`(?${3 * r + 2}, ?${3 * r + 3}, ?${3 * r + 4}, ?1, ?1, ?1)`);
  return `INSERT INTO jobs (artifact_id, artifact, priority, available_at, created_at, updated_at)
    VALUES ${values.join(", ")} ON CONFLICT (artifact_id) DO NOTHING`;
}

const FULL_STATEMENT = insertSql(ROWS_PER_STATEMENT);

/**
 * Insert jobs inside the caller's transaction; answers how many were new. Callers that commit
 * something else with the same rows (an OpenAlex pull's cursor) use this directly.
 */
export function insertJobs(db: Database, artifacts: readonly Artifact[], now: number): number {
  let added = 0;
  for (let start = 0; start < artifacts.length; start += ROWS_PER_STATEMENT) {
    const end = Math.min(artifacts.length, start + ROWS_PER_STATEMENT);
    const params: SQLQueryBindings[] = [now];
    for (let i = start; i < end; i++) {
      const a = artifacts[i] as Artifact;
      params.push(a.id, JSON.stringify(a), a.priority ?? 0);
    }
    const sql = end - start === ROWS_PER_STATEMENT ? FULL_STATEMENT : insertSql(end - start);
    added += db.query(sql).run(...params).changes;
  }
  return added;
}

/** Insert a batch in one transaction; counts what was new and what was already there. */
export function enqueueJobs(db: Database, artifacts: readonly Artifact[], now: number): EnqueueResult {
  const added = db.transaction(() => insertJobs(db, artifacts, now)).immediate();
  return { added, duplicate: artifacts.length - added };
}
