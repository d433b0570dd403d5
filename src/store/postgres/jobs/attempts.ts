// Attempt rows travel as one JSON array parameter and are expanded (jsonb_array_elements) inside the
// statement that holds the lease, so a finish with its attempts stays ONE statement (redacted here,
// as the SQLite writer does). recordAttempts inserts only while the token still holds the job.
import type { SQL } from "bun";
import { redactUrl } from "../../../core/redact.ts";
import type { AttemptRecord } from "../../types.ts";

/** The JSON parameter for the attempt rows; throws (before any SQL) on a value that is not storable. */
export function attemptsJson(attempts: readonly AttemptRecord[] | undefined): string {
  return JSON.stringify(attemptRows(attempts));
}

/** The attempt rows as the statements read them (redacted); throws on a value that is not storable. */
export function attemptRows(attempts: readonly AttemptRecord[] | undefined): Record<string, unknown>[] {
  return (attempts ?? []).map((a) => {
    if (a.url != null && typeof a.url !== "string") throw new TypeError("attempt url: expected a string");
    return {
      role: a.role ?? null,
      resolver: a.resolver ?? null,
      tier: a.tier ?? null,
      url: a.url == null ? null : redactUrl(a.url),
      host: a.host ?? null,
      http_status: a.httpStatus ?? null,
      reason: a.reason ?? null,
      bytes: a.bytes ?? null,
      elapsed_ms: a.elapsedMs ?? null,
      rate_wait_ms: a.rateWaitMs ?? null,
      held_back_ms: a.heldBackMs ?? null,
      at: a.at ?? null,
    };
  });
}

/** Record attempts for a held lease; false (nothing written) when the lease is lost. */
export async function recordAttempts(
  sql: SQL,
  jobId: number,
  token: string,
  attempts: readonly AttemptRecord[],
  clock: number | null,
): Promise<boolean> {
  const json = attemptsJson(attempts);
  // FOR SHARE: a lease taken over while these rows go in waits for them, never the other way round.
  const [row] = await sql<{ held: string }[]>`
    WITH held AS (
      SELECT id, docstokg_now_ms(${clock}::bigint) AS now FROM jobs
      WHERE id = ${jobId} AND lease_token = ${token} AND state = 'in_progress' FOR SHARE),
    ins AS (
      INSERT INTO attempts (job_id, lease_token, role, resolver, tier, url, host, http_status, reason, bytes,
        elapsed_ms, rate_wait_ms, held_back_ms, at)
      SELECT held.id, ${token}, a.v->>'role', a.v->>'resolver', (a.v->>'tier')::integer, a.v->>'url', a.v->>'host',
        (a.v->>'http_status')::integer, a.v->>'reason', (a.v->>'bytes')::bigint, (a.v->>'elapsed_ms')::bigint,
        (a.v->>'rate_wait_ms')::bigint, (a.v->>'held_back_ms')::bigint, COALESCE((a.v->>'at')::bigint, held.now)
      FROM held, jsonb_array_elements(${json}::text::jsonb) WITH ORDINALITY AS a(v, n)
      ORDER BY a.n)
    SELECT count(*) AS held FROM held`;
  return Number(row?.held ?? 0) === 1;
}
