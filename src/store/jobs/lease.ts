// Claiming work: ONE statement picks the best ready jobs (queued and due, or in progress with an
// expired lease), marks them in_progress under a fresh token and returns exactly those rows. Each
// branch walks its own partial index, so done/skipped/error rows never cost a lease anything.
import type { Database } from "bun:sqlite";
import type { LeasedJob } from "../types.ts";
import { parseArtifact, parseJson } from "./rows.ts";

// INDEXED BY pins each branch to its partial index: with the planner's free choice, the state
// index plus a sort over every ready row looks cheaper on a young database and is ruinous on a big one.
// An expired lease counts as a finished try (the runner holding it crashed or stalled); one that
// would be the job's last try is not re-leased but ended by reap.ts, so a job that kills its
// runner cannot loop forever.
const LEASE_JOBS = `
UPDATE jobs SET
  state = 'in_progress',
  attempts = CASE WHEN state = 'in_progress' THEN attempts + 1 ELSE attempts END,
  last_reason = CASE WHEN state = 'in_progress' THEN 'lease_lost' ELSE last_reason END,
  lease_token = $token || '.' || id,
  lease_owner = $owner,
  lease_expires_at = $expires,
  first_attempt_at = COALESCE(first_attempt_at, $now),
  updated_at = $now
WHERE id IN (
    SELECT id FROM (
      SELECT id, priority, ready_at FROM (
        SELECT id, priority, available_at AS ready_at FROM jobs INDEXED BY jobs_ready_idx
        WHERE state = 'queued' AND available_at <= $now
        ORDER BY priority DESC, available_at, id LIMIT $n)
      UNION ALL
      SELECT id, priority, ready_at FROM (
        SELECT id, priority, lease_expires_at AS ready_at FROM jobs INDEXED BY jobs_lease_expiry_idx
        WHERE state = 'in_progress' AND lease_expires_at <= $now AND attempts + 1 < COALESCE(max_attempts, $max)
        ORDER BY lease_expires_at LIMIT $n)
      ORDER BY priority DESC, ready_at, id LIMIT $n))
  AND NOT EXISTS (SELECT 1 FROM settings WHERE key = 'paused' AND value = '1')
RETURNING id, artifact_id, artifact, priority, attempts, max_attempts, lease_token, lease_expires_at, progress,
  available_at`;

interface LeasedRecord {
  id: number;
  artifact_id: string;
  artifact: string;
  priority: number;
  attempts: number;
  max_attempts: number | null;
  lease_token: string;
  lease_expires_at: number;
  progress: string | null;
  available_at: number;
}

export interface LeaseParams {
  owner: string;
  n: number;
  now: number;
  ttlMs: number;
  /** Random, unguessable; each job's token is `<base>.<job id>`, so tokens are per job and per lease. */
  tokenBase: string;
  /** queue.max_attempts, for jobs without their own limit. */
  maxAttempts: number;
}

/** The lease operation for one connection: ONE prepared statement, run as its own transaction. */
export function prepareLease(db: Database): (p: LeaseParams) => LeasedJob[] {
  const claim = db.query<LeasedRecord, Record<string, string | number>>(LEASE_JOBS);
  return (p) => {
    if (p.n <= 0) return [];
    const rows = claim.all({
      $token: p.tokenBase,
      $owner: p.owner,
      $expires: p.now + p.ttlMs,
      $now: p.now,
      $n: p.n,
      $max: p.maxAttempts,
    });
    // RETURNING has no order; hand jobs out best first.
    rows.sort((a, b) => b.priority - a.priority || a.available_at - b.available_at || a.id - b.id);
    return rows.map((r) => ({
      id: r.id,
      artifactId: r.artifact_id,
      artifact: parseArtifact(r.artifact, r.artifact_id),
      priority: r.priority,
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      token: r.lease_token,
      owner: p.owner,
      leaseExpiresAt: r.lease_expires_at,
      progress: parseJson(r.progress),
    }));
  };
}
