// Claiming work: ONE statement locks the best ready jobs with FOR UPDATE SKIP LOCKED (queued and due,
// or in progress with an expired lease that is not the job's last try), marks them in_progress under
// a fresh token and returns exactly those rows. Concurrent leasers skip each other's rows instead of
// waiting, and each branch walks its own partial index, so terminal rows never cost a lease anything.
import type { SQL } from "bun";
import { parseArtifact, parseJson } from "../../jobs/rows.ts";
import type { LeasedJob } from "../../types.ts";
import { num } from "./rows.ts";

export interface PgLeaseParams {
  owner: string;
  n: number;
  ttlMs: number;
  /** Random, unguessable; each job's token is `<base>.<job id>`. */
  tokenBase: string;
  maxAttempts: number;
  /** Test clock override; null = the database clock. */
  clock: number | null;
}

interface Leased {
  id: string;
  artifact_id: string;
  artifact: string;
  priority: number;
  attempts: number;
  max_attempts: number | null;
  lease_token: string;
  lease_expires_at: string;
  progress: string | null;
  ready_at: string;
}

export async function leaseJobs(sql: SQL, p: PgLeaseParams): Promise<LeasedJob[]> {
  if (p.n <= 0) return [];
  const rows = await sql<Leased[]>`
    WITH clock AS (SELECT docstokg_now_ms(${p.clock}::bigint) AS now),
    open AS (SELECT NOT EXISTS (SELECT 1 FROM settings WHERE key = 'paused' AND value = '1') AS yes),
    ready AS (
      SELECT id, priority, available_at AS ready_at FROM jobs
      WHERE state = 'queued' AND available_at <= (SELECT now FROM clock) AND (SELECT yes FROM open)
      ORDER BY priority DESC, available_at, id LIMIT ${p.n} FOR UPDATE SKIP LOCKED),
    expired AS (
      SELECT id, priority, lease_expires_at AS ready_at FROM jobs
      WHERE state = 'in_progress' AND lease_expires_at <= (SELECT now FROM clock)
        AND attempts + 1 < COALESCE(max_attempts, ${p.maxAttempts}::integer) AND (SELECT yes FROM open)
      ORDER BY lease_expires_at LIMIT ${p.n} FOR UPDATE SKIP LOCKED),
    picked AS (
      SELECT id, ready_at FROM (SELECT * FROM ready UNION ALL SELECT * FROM expired) c
      ORDER BY priority DESC, ready_at, id LIMIT ${p.n})
    UPDATE jobs j SET
      state = 'in_progress',
      -- An expired lease counts as a finished try (its runner crashed or stalled).
      attempts = CASE WHEN j.state = 'in_progress' THEN j.attempts + 1 ELSE j.attempts END,
      last_reason = CASE WHEN j.state = 'in_progress' THEN 'lease_lost' ELSE j.last_reason END,
      lease_token = ${p.tokenBase}::text || '.' || j.id,
      lease_owner = ${p.owner}::text,
      lease_expires_at = clock.now + ${p.ttlMs}::bigint,
      first_attempt_at = COALESCE(j.first_attempt_at, clock.now),
      updated_at = clock.now
    FROM picked, clock
    WHERE j.id = picked.id
    RETURNING j.id, j.artifact_id, j.artifact, j.priority, j.attempts, j.max_attempts, j.lease_token,
      j.lease_expires_at, j.progress, picked.ready_at`;
  const jobs = rows.map((r) => ({ r, id: num(r.id), readyAt: num(r.ready_at) }));
  // RETURNING has no order; hand jobs out best first.
  jobs.sort((a, b) => b.r.priority - a.r.priority || a.readyAt - b.readyAt || a.id - b.id);
  return jobs.map(({ r, id }) => ({
    id,
    artifactId: r.artifact_id,
    artifact: parseArtifact(r.artifact, r.artifact_id),
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    token: r.lease_token,
    owner: p.owner,
    leaseExpiresAt: num(r.lease_expires_at),
    progress: parseJson(r.progress),
  }));
}
