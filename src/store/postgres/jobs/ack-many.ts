// Many acks as ONE statement: the items travel as one JSON array (jsonb_to_recordset), and one
// UPDATE … FROM moves every job whose token still holds it, with the outcome rows, attempt rows and
// stored-URL entries of exactly those jobs inserted by the same statement. Each item keeps its own
// compare-and-set on the token (a stale one matches no row) and its own result (the ordinals that
// came back), so one round trip does what 64 ackJob statements did.
import type { SQL } from "bun";
import type { AckInput } from "../../types.ts";
import { attemptRows } from "./attempts.ts";
import { detailParams, type FinishContext } from "./finish.ts";

/** One ack ready for the statement: validated and redacted before any SQL runs. */
export interface PreparedAck {
  ord: number;
  id: number;
  token: string;
  state: "done" | "skipped";
  reason: string;
  attempts: unknown[];
  [column: string]: unknown;
}

/** The item as the statement reads it; throws (before any SQL) on a value that cannot be stored. */
export function prepareAck(ord: number, jobId: number, token: string, outcome: AckInput): PreparedAck {
  const d = detailParams(outcome);
  const s = outcome.state === "done" ? outcome.stored : undefined;
  return {
    ord,
    id: jobId,
    token,
    state: outcome.state,
    reason: outcome.reason,
    message: d.message,
    resolver: d.resolver,
    tier: d.tier,
    url: d.url,
    final_url: d.finalUrl,
    sha256: d.sha256,
    bytes: d.bytes,
    content_type: d.contentType,
    path: d.path,
    etag: d.etag,
    last_modified: d.lastModified,
    license: d.license,
    license_url: d.licenseUrl,
    version: d.version,
    host_type: d.hostType,
    oa_status: d.oaStatus,
    attempts: attemptRows(outcome.attempts),
    s_url: s?.url ?? null,
    s_sha256: s?.sha256 ?? null,
    s_path: s?.path ?? null,
    s_bytes: s?.bytes ?? null,
    s_kind: s?.kind ?? null,
    s_etag: s?.etag ?? null,
    s_last_modified: s?.lastModified ?? null,
  };
}

/**
 * Ack every item whose token still holds its job; answers the ordinals that were acked. Job ids
 * must be distinct (a job matched twice by one UPDATE is changed once, by either item): the caller
 * splits a batch where an id repeats.
 */
export async function ackMany(
  sql: SQL,
  items: readonly PreparedAck[],
  ctx: FinishContext,
): Promise<Set<number>> {
  if (items.length === 0) return new Set();
  const json = JSON.stringify(items);
  const rows = await sql<{ ord: number }[]>`
    WITH clock AS (SELECT docstokg_now_ms(${ctx.clock}::bigint) AS now),
    input AS (
      SELECT * FROM jsonb_to_recordset(${json}::text::jsonb) AS i(ord integer, id bigint, token text, state text,
        reason text, message text, resolver text, tier integer, url text, final_url text, sha256 text, bytes bigint,
        content_type text, path text, etag text, last_modified text, license text, license_url text, version text,
        host_type text, oa_status text, attempts jsonb, s_url text, s_sha256 text, s_path text, s_bytes bigint,
        s_kind text, s_etag text, s_last_modified text)),
    done AS (
      UPDATE jobs j SET state = i.state, attempts = j.attempts + 1, last_reason = i.reason, last_error = i.message,
        lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_token = i.token,
        updated_at = clock.now
      FROM input i, clock WHERE j.id = i.id AND j.lease_token = i.token AND j.state = 'in_progress'
      RETURNING i.ord, j.id, j.artifact_id, j.attempts, j.first_attempt_at, clock.now AS now),
    outcome AS (
      INSERT INTO outcomes (job_id, lease_token, artifact_id, state, reason, message, resolver, tier, url, final_url,
        sha256, bytes, content_type, path, etag, last_modified, first_attempt_at, finished_at, attempts, license,
        license_url, version, host_type, oa_status)
      SELECT d.id, i.token, d.artifact_id, i.state, i.reason, i.message, i.resolver, i.tier, i.url, i.final_url,
        i.sha256, i.bytes, i.content_type, i.path, i.etag, i.last_modified, d.first_attempt_at, d.now, d.attempts,
        i.license, i.license_url, i.version, i.host_type, i.oa_status
      FROM done d JOIN input i ON i.ord = d.ord
      -- Outcomes are numbered in the order the items were given, as one ack after another would be.
      ORDER BY d.ord),
    tried AS (
      INSERT INTO attempts (job_id, lease_token, role, resolver, tier, url, host, http_status, reason, bytes,
        elapsed_ms, rate_wait_ms, held_back_ms, at)
      SELECT d.id, i.token, a.v->>'role', a.v->>'resolver', (a.v->>'tier')::integer, a.v->>'url', a.v->>'host',
        (a.v->>'http_status')::integer, a.v->>'reason', (a.v->>'bytes')::bigint, (a.v->>'elapsed_ms')::bigint,
        (a.v->>'rate_wait_ms')::bigint, (a.v->>'held_back_ms')::bigint, COALESCE((a.v->>'at')::bigint, d.now)
      FROM done d JOIN input i ON i.ord = d.ord, jsonb_array_elements(i.attempts) WITH ORDINALITY AS a(v, n)
      ORDER BY d.ord, a.n),
    stored AS (
      -- Two items storing the same URL: the later one wins, as it would one ack after another (and
      -- ON CONFLICT may not touch a row twice in one statement).
      INSERT INTO stored_urls (url, sha256, path, bytes, kind, etag, last_modified, artifact_id, stored_at)
      SELECT DISTINCT ON (i.s_url) i.s_url, i.s_sha256, i.s_path, i.s_bytes, i.s_kind, i.s_etag, i.s_last_modified,
        d.artifact_id, d.now
      FROM done d JOIN input i ON i.ord = d.ord WHERE i.s_url IS NOT NULL
      ORDER BY i.s_url, d.ord DESC
      ON CONFLICT (url) DO UPDATE SET sha256 = excluded.sha256, path = excluded.path, bytes = excluded.bytes,
        kind = excluded.kind, etag = excluded.etag, last_modified = excluded.last_modified,
        artifact_id = excluded.artifact_id, stored_at = excluded.stored_at)
    SELECT ord FROM done`;
  return new Set(rows.map((r) => Number(r.ord)));
}
