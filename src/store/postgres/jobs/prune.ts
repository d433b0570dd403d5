// Pruning old attempt rows on PostgreSQL (../../prune.ts has the meaning): the cutoff comes from the
// database clock once, then one short statement per window of ids; the job's state is read in the
// same statement, so only attempts of finished jobs go.
import type { SQL } from "bun";
import { DEFAULT_PRUNE_BATCH, type PruneOptions, type PruneSummary } from "../../prune.ts";

export async function pruneAttemptsPostgres(sql: SQL, o: PruneOptions): Promise<PruneSummary> {
  const batch = o.batch ?? DEFAULT_PRUNE_BATCH;
  const [clock] = await sql<{ before: string }[]>`
    SELECT docstokg_now_ms(NULL) - ${Math.round(o.olderThanMs)}::bigint AS before`;
  const before = Number(clock?.before);
  let deleted = 0;
  let after = 0;
  for (;;) {
    const [w] = await sql<{ hi: string | null }[]>`
      SELECT max(id) AS hi FROM (SELECT id FROM attempts WHERE id > ${after}::bigint ORDER BY id LIMIT ${batch}::integer) w`;
    if (w?.hi == null) break;
    const hi = Number(w.hi);
    const r = await sql`
      DELETE FROM attempts a USING jobs j
      WHERE j.id = a.job_id AND a.id > ${after}::bigint AND a.id <= ${hi}::bigint AND a.at < ${before}::bigint
        AND j.state = ANY(${sql.array([...o.states], "TEXT")})`;
    deleted += r.count;
    after = hi;
    o.onBatch?.(deleted);
  }
  return { deleted, before };
}
