// Adding jobs: one INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO NOTHING per batch, so a
// batch of thousands is one round trip and the row count says exactly what was new.
import type { SQL } from "bun";
import type { Artifact } from "../../../artifact/artifact.ts";
import type { EnqueueResult } from "../../types.ts";

/** Rows per statement: big enough that the round trip vanishes, small enough to stay one packet train. */
export const PG_ROWS_PER_STATEMENT = 5000;

export async function enqueueJobs(
  sql: SQL,
  artifacts: readonly Artifact[],
  clock: number | null,
): Promise<EnqueueResult> {
  let added = 0;
  for (let start = 0; start < artifacts.length; start += PG_ROWS_PER_STATEMENT) {
    const slice = artifacts.slice(start, start + PG_ROWS_PER_STATEMENT);
    const ids = slice.map((a) => a.id);
    const bodies = slice.map((a) => JSON.stringify(a));
    const priorities = slice.map((a) => a.priority ?? 0);
    // ORDER BY n: ids follow input order, as with SQLite (first enqueued, first leased among equals).
    const result = await sql`
      INSERT INTO jobs (artifact_id, artifact, priority, available_at, created_at, updated_at)
      SELECT i, b, p, c.now, c.now, c.now
      FROM unnest(${sql.array(ids, "TEXT")}, ${sql.array(bodies, "TEXT")}, ${sql.array(priorities, "INT4")})
        WITH ORDINALITY AS u(i, b, p, n),
        (SELECT docstokg_now_ms(${clock}::bigint) AS now) c
      ORDER BY n
      ON CONFLICT (artifact_id) DO NOTHING`;
    added += result.count;
  }
  return { added, duplicate: artifacts.length - added };
}
