// Adding jobs: one INSERT per artifact, ON CONFLICT on the unique artifact id, so importing the
// same work twice adds nothing. Callers batch rows into one transaction.
import type { Database } from "bun:sqlite";
import type { Artifact } from "../../artifact/artifact.ts";
import type { EnqueueResult } from "../types.ts";

const INSERT_JOB = `INSERT INTO jobs (artifact_id, artifact, priority, available_at, created_at, updated_at)
  VALUES (?1, ?2, ?3, ?4, ?4, ?4) ON CONFLICT (artifact_id) DO NOTHING`;

/** Insert a batch in one transaction; counts what was new and what was already there. */
export function enqueueJobs(db: Database, artifacts: readonly Artifact[], now: number): EnqueueResult {
  const insert = db.query(INSERT_JOB);
  let added = 0;
  db.transaction(() => {
    for (const artifact of artifacts) {
      added += insert.run(artifact.id, JSON.stringify(artifact), artifact.priority ?? 0, now).changes;
    }
  }).immediate();
  return { added, duplicate: artifacts.length - added };
}
