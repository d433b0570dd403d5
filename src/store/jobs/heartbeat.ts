// Keeping leases alive: extend each lease the caller still holds, matched by job id and token.
// A lease taken over by someone else is simply not extended; the caller learns which ones were.
import type { Database } from "bun:sqlite";

const EXTEND_LEASE = `UPDATE jobs SET lease_expires_at = ?3
  WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'`;

export function extendLeases(
  db: Database,
  leases: readonly { jobId: number; token: string }[],
  expiresAt: number,
): number[] {
  const extend = db.query(EXTEND_LEASE);
  const kept: number[] = [];
  db.transaction(() => {
    for (const { jobId, token } of leases) {
      if (extend.run(jobId, token, expiresAt).changes === 1) kept.push(jobId);
    }
  }).immediate();
  return kept;
}
