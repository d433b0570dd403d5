// Keeping leases alive: ONE statement extends every lease the caller still holds (matched by job id
// and token) to the database's now + TTL; the caller learns which ones were extended.
import type { SQL } from "bun";
import { num } from "./rows.ts";

export async function extendLeases(
  sql: SQL,
  leases: readonly { jobId: number; token: string }[],
  ttlMs: number,
  clock: number | null,
): Promise<number[]> {
  if (leases.length === 0) return [];
  const rows = await sql<{ id: string }[]>`
    UPDATE jobs j SET lease_expires_at = docstokg_now_ms(${clock}::bigint) + ${ttlMs}::bigint
    FROM unnest(${sql.array(
      leases.map((l) => l.jobId),
      "INT8",
    )}, ${sql.array(
      leases.map((l) => l.token),
      "TEXT",
    )}) AS l(id, token)
    WHERE j.id = l.id AND j.lease_token = l.token AND j.state = 'in_progress'
    RETURNING j.id`;
  const kept = new Set(rows.map((r) => num(r.id)));
  return leases.map((l) => l.jobId).filter((id) => kept.has(id));
}
