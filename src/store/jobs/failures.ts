// Failed and skipped jobs grouped by their last reason, with a few recent examples per reason, for
// the status page's front page. Both walk the partial indexes of their state (last_reason, then id),
// so the cost follows the number of failures, never the size of the queue.
import type { Database } from "bun:sqlite";

export interface ReasonExample {
  id: number;
  artifactId: string;
}

export interface ReasonGroup {
  state: "error" | "skipped";
  /** null for jobs that ended without a recorded reason. */
  reason: string | null;
  count: number;
  /** The most recently created jobs of this reason, newest first. */
  examples: ReasonExample[];
}

const INDEX = { error: "jobs_error_idx", skipped: "jobs_skipped_idx" } as const;

export function failuresByReason(
  db: Database,
  opts: { examples?: number; maxGroups?: number } = {},
): ReasonGroup[] {
  const perReason = opts.examples ?? 3;
  const maxGroups = opts.maxGroups ?? 50;
  return db.transaction(() => {
    const groups: ReasonGroup[] = [];
    for (const state of ["error", "skipped"] as const) {
      // Literal state and INDEXED BY: only so does SQLite use the partial index of that state.
      const counts = db
        .query<{ reason: string | null; n: number }, []>(
          `SELECT last_reason AS reason, count(*) AS n FROM jobs INDEXED BY ${INDEX[state]}
            WHERE state = '${state}' GROUP BY last_reason`,
        )
        .all();
      const examples = db.query<{ id: number; artifact_id: string }, [string | null, number]>(
        `SELECT id, artifact_id FROM jobs INDEXED BY ${INDEX[state]}
          WHERE state = '${state}' AND last_reason IS ?1 ORDER BY id DESC LIMIT ?2`,
      );
      counts.sort((a, b) => b.n - a.n || String(a.reason).localeCompare(String(b.reason)));
      for (const c of counts.slice(0, maxGroups)) {
        groups.push({
          state,
          reason: c.reason,
          count: c.n,
          examples: examples.all(c.reason, perReason).map((r) => ({ id: r.id, artifactId: r.artifact_id })),
        });
      }
    }
    return groups;
  })();
}
