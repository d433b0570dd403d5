// Keeping leases alive: extend each lease the caller still holds, matched by job id and token.
// A lease taken over by someone else is simply not extended; the caller learns which ones were.
import type { Database } from "bun:sqlite";

const EXTEND_LEASE = `UPDATE jobs SET lease_expires_at = ?3
  WHERE id = ?1 AND lease_token = ?2 AND state = 'in_progress'`;

/** The heartbeat operation for one connection (prepared once; runners call it every few seconds). */
export function prepareHeartbeat(
  db: Database,
): (leases: readonly { jobId: number; token: string }[], expiresAt: number) => number[] {
  const extend = db.query(EXTEND_LEASE);
  const tx = db.transaction(
    (leases: readonly { jobId: number; token: string }[], expiresAt: number): number[] => {
      const kept: number[] = [];
      for (const { jobId, token } of leases) {
        if (extend.run(jobId, token, expiresAt).changes === 1) kept.push(jobId);
      }
      return kept;
    },
  );
  return (leases, expiresAt) => tx.immediate(leases, expiresAt);
}
