// The manifest outbox on PostgreSQL (migration 2): outcome seq is not in commit order here, so each
// state directory's instance CLAIMS committed outcomes nobody has claimed (one statement, SKIP LOCKED
// so instances never wait on each other), appends them, then marks them appended. A claimed row
// belongs to that instance forever: it appears in exactly one state directory's manifest.
import type { SQL } from "bun";
import { type OutcomeWithArtifact, toOutcomeWithArtifact } from "../jobs/rows.ts";
import { num, numOrNull } from "./jobs/rows.ts";

/** An outcome's columns with its job's artifact, as the manifest line needs them. */
export const OUTCOME_COLUMNS = (
  o: string,
  j: string,
) => `${o}.seq, ${o}.job_id, ${o}.artifact_id, ${o}.state, ${o}.reason,
  ${o}.message, ${o}.resolver, ${o}.tier, ${o}.url, ${o}.final_url, ${o}.sha256, ${o}.bytes, ${o}.content_type,
  ${o}.path, ${o}.etag, ${o}.last_modified, ${o}.first_attempt_at, ${o}.finished_at, ${o}.attempts, ${o}.license,
  ${o}.license_url, ${o}.version, ${o}.host_type, ${o}.oa_status, ${j}.artifact`;

export function pgOutcomeWithArtifact(r: Record<string, unknown>): OutcomeWithArtifact {
  const row = { ...r } as Record<string, unknown>;
  for (const k of ["seq", "job_id", "bytes", "first_attempt_at", "finished_at", "tier", "attempts"])
    row[k] = numOrNull(row[k]);
  return toOutcomeWithArtifact(row as never);
}

/** Outcomes this instance claimed and has not marked appended (a predecessor died in between), by seq. */
export async function unappendedOutcomes(
  sql: SQL,
  instance: string,
  limit: number,
): Promise<OutcomeWithArtifact[]> {
  const rows = await sql.unsafe(
    `SELECT ${OUTCOME_COLUMNS("o", "j")} FROM outcomes o LEFT JOIN jobs j ON j.id = o.job_id
     WHERE o.outbox_instance = $1 AND NOT o.outbox_appended ORDER BY o.seq LIMIT $2`,
    [instance, limit],
  );
  return (rows as Record<string, unknown>[]).map(pgOutcomeWithArtifact);
}

/** Claim up to `limit` committed outcomes nobody has claimed; answers them by seq. */
export async function claimOutcomes(
  sql: SQL,
  instance: string,
  limit: number,
): Promise<OutcomeWithArtifact[]> {
  const rows = await sql.unsafe(
    `WITH claimed AS (
       UPDATE outcomes o SET outbox_instance = $1
       WHERE o.seq IN (SELECT seq FROM outcomes WHERE outbox_instance IS NULL ORDER BY seq LIMIT $2
                       FOR UPDATE SKIP LOCKED)
       RETURNING o.*)
     SELECT ${OUTCOME_COLUMNS("c", "j")} FROM claimed c LEFT JOIN jobs j ON j.id = c.job_id ORDER BY c.seq`,
    [instance, limit],
  );
  return (rows as Record<string, unknown>[]).map(pgOutcomeWithArtifact);
}

export async function markAppended(sql: SQL, instance: string, seqs: readonly number[]): Promise<void> {
  if (seqs.length === 0) return;
  await sql`
    UPDATE outcomes SET outbox_appended = true
    WHERE outbox_instance = ${instance} AND seq = ANY(${sql.array(seqs as number[], "INT8")})`;
}

/** Outcomes no instance has claimed yet (`manifest` status, tests). */
export async function unclaimedCount(sql: SQL): Promise<number> {
  const [r] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM outcomes WHERE outbox_instance IS NULL`;
  return num(r?.n ?? 0);
}

/** Takes the advisory lock the appenders of one state directory's instance share (held on `conn`). */
export async function lockManifestInstance(conn: SQL, instance: string): Promise<void> {
  await conn`SELECT pg_advisory_lock(hashtext('docstokg.manifest'), hashtext(${instance}))`;
}

export async function unlockManifestInstance(conn: SQL, instance: string): Promise<void> {
  await conn`SELECT pg_advisory_unlock(hashtext('docstokg.manifest'), hashtext(${instance}))`;
}
