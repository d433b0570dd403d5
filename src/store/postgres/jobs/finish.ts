// Finishing a held job — ack (done/skipped), fail (retry later or error), release (back without a
// try) — each as ONE statement fenced by the lease token: the job row, its outcome, its attempts and
// the stored-URL entry change together or not at all, and a stale token changes nothing. Every finish
// leaves its token in jobs.finished_token (and an outcome's in outcomes.lease_token), so a finish
// retried after an unanswered COMMIT can tell its own earlier success from a lost lease (`confirm*`).
import type { SQL } from "bun";
import { redactText, redactUrl } from "../../../core/redact.ts";
import type { BackoffPolicy } from "../../backoff.ts";
import type { AckInput, FailInput, FailResult, OutcomeDetail } from "../../types.ts";
import { attemptsJson } from "./attempts.ts";
import { num } from "./rows.ts";

/** What every finish needs besides the job: the test clock (null = database clock). */
export interface FinishContext {
  clock: number | null;
}

export function detailParams(d: OutcomeDetail) {
  return {
    message: d.message == null ? null : redactText(d.message),
    resolver: d.resolver ?? null,
    tier: d.tier ?? null,
    url: d.url == null ? null : redactUrl(d.url),
    finalUrl: d.finalUrl == null ? null : redactUrl(d.finalUrl),
    sha256: d.sha256 ?? null,
    bytes: d.bytes ?? null,
    contentType: d.contentType ?? null,
    path: d.path ?? null,
    etag: d.etag ?? null,
    lastModified: d.lastModified ?? null,
    license: d.license ?? null,
    licenseUrl: d.licenseUrl ?? null,
    version: d.version ?? null,
    hostType: d.hostType ?? null,
    oaStatus: d.oaStatus ?? null,
  };
}

export async function ackJob(
  sql: SQL,
  jobId: number,
  token: string,
  outcome: AckInput,
  ctx: FinishContext,
): Promise<boolean> {
  const d = detailParams(outcome);
  const attempts = attemptsJson(outcome.attempts);
  const s = outcome.state === "done" ? outcome.stored : undefined;
  const [row] = await sql<{ n: string }[]>`
    WITH clock AS (SELECT docstokg_now_ms(${ctx.clock}::bigint) AS now),
    done AS (
      UPDATE jobs j SET state = ${outcome.state}::text, attempts = j.attempts + 1, last_reason = ${outcome.reason}::text,
        last_error = ${d.message}::text, lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL,
        finished_token = ${token}::text, updated_at = clock.now
      FROM clock WHERE j.id = ${jobId}::bigint AND j.lease_token = ${token}::text AND j.state = 'in_progress'
      RETURNING j.id, j.artifact_id, j.attempts, j.first_attempt_at, clock.now AS now),
    outcome AS (
      INSERT INTO outcomes (job_id, lease_token, artifact_id, state, reason, message, resolver, tier, url, final_url,
        sha256, bytes, content_type, path, etag, last_modified, first_attempt_at, finished_at, attempts, license,
        license_url, version, host_type, oa_status)
      SELECT id, ${token}::text, artifact_id, ${outcome.state}::text, ${outcome.reason}::text, ${d.message}::text,
        ${d.resolver}::text, ${d.tier}::integer, ${d.url}::text, ${d.finalUrl}::text, ${d.sha256}::text,
        ${d.bytes}::bigint, ${d.contentType}::text, ${d.path}::text, ${d.etag}::text, ${d.lastModified}::text,
        first_attempt_at, now, attempts, ${d.license}::text, ${d.licenseUrl}::text, ${d.version}::text,
        ${d.hostType}::text, ${d.oaStatus}::text
      FROM done),
    tried AS (
      INSERT INTO attempts (job_id, lease_token, role, resolver, tier, url, host, http_status, reason, bytes,
        elapsed_ms, rate_wait_ms, held_back_ms, at)
      SELECT done.id, ${token}::text, a.v->>'role', a.v->>'resolver', (a.v->>'tier')::integer, a.v->>'url', a.v->>'host',
        (a.v->>'http_status')::integer, a.v->>'reason', (a.v->>'bytes')::bigint, (a.v->>'elapsed_ms')::bigint,
        (a.v->>'rate_wait_ms')::bigint, (a.v->>'held_back_ms')::bigint, COALESCE((a.v->>'at')::bigint, done.now)
      FROM done, jsonb_array_elements(${attempts}::text::jsonb) WITH ORDINALITY AS a(v, n)
      ORDER BY a.n),
    stored AS (
      INSERT INTO stored_urls (url, sha256, path, bytes, kind, etag, last_modified, artifact_id, stored_at)
      SELECT ${s?.url ?? null}::text, ${s?.sha256 ?? null}::text, ${s?.path ?? null}::text, ${s?.bytes ?? null}::bigint,
        ${s?.kind ?? null}::text, ${s?.etag ?? null}::text, ${s?.lastModified ?? null}::text, done.artifact_id, done.now
      FROM done WHERE ${s?.url ?? null}::text IS NOT NULL
      ON CONFLICT (url) DO UPDATE SET sha256 = excluded.sha256, path = excluded.path, bytes = excluded.bytes,
        kind = excluded.kind, etag = excluded.etag, last_modified = excluded.last_modified,
        artifact_id = excluded.artifact_id, stored_at = excluded.stored_at)
    SELECT count(*) AS n FROM done`;
  return Number(row?.n ?? 0) === 1;
}

export interface FailParams {
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** The jitter draw in [0, 1). */
  draw: number;
  /** The origin's Retry-After as a wait from now (ms), replacing the draw; null for none. */
  retryDelayMs: number | null;
  /** Saved with the failure when given (null clears it); undefined leaves progress as it is. */
  progress?: unknown;
}

export async function failJob(
  sql: SQL,
  jobId: number,
  token: string,
  failure: FailInput,
  p: FailParams,
  ctx: FinishContext,
): Promise<FailResult | false> {
  const message = failure.message == null ? null : redactText(failure.message);
  const d = detailParams({ ...failure.detail, message });
  const attempts = attemptsJson(failure.attempts);
  const setProgress = p.progress !== undefined;
  const progress = p.progress === undefined || p.progress === null ? null : JSON.stringify(p.progress);
  const draw = Math.min(Math.max(p.draw, 0), 1);
  // The backoff is computed here from the attempt number the row holds, exactly as backoff.ts does:
  // floor(draw · min(cap, base · 2^(attempt-1))), or the origin's Retry-After when it gave one.
  const [row] = await sql<{ retry: boolean; n: number; available_at: string }[]>`
    WITH clock AS (SELECT docstokg_now_ms(${ctx.clock}::bigint) AS now),
    held AS (
      SELECT id, artifact_id, attempts + 1 AS n, COALESCE(max_attempts, ${p.maxAttempts}::integer) AS max,
        first_attempt_at
      FROM jobs WHERE id = ${jobId}::bigint AND lease_token = ${token}::text AND state = 'in_progress'
      FOR UPDATE),
    decided AS (
      SELECT held.*, clock.now, (${failure.transient}::boolean AND held.n < held.max) AS retry,
        clock.now + CASE WHEN ${p.retryDelayMs}::bigint IS NOT NULL THEN greatest(0, ${p.retryDelayMs}::bigint)
          ELSE floor(${draw}::float8 * least(${p.backoff.capMs}::float8,
            ${p.backoff.baseMs}::float8 * power(2::float8, least(greatest(held.n - 1, 0), 1000))))::bigint
        END AS available_at
      FROM held, clock),
    changed AS (
      UPDATE jobs j SET state = CASE WHEN d.retry THEN 'queued' ELSE 'error' END, attempts = d.n,
        available_at = CASE WHEN d.retry THEN d.available_at ELSE j.available_at END,
        last_reason = ${failure.reason}::text, last_error = ${message}::text, lease_token = NULL, lease_owner = NULL,
        lease_expires_at = NULL, finished_token = ${token}::text,
        progress = CASE WHEN ${setProgress}::boolean THEN ${progress}::text ELSE j.progress END,
        updated_at = d.now
      FROM decided d WHERE j.id = d.id),
    outcome AS (
      INSERT INTO outcomes (job_id, lease_token, artifact_id, state, reason, message, resolver, tier, url, final_url,
        sha256, bytes, content_type, path, etag, last_modified, first_attempt_at, finished_at, attempts, license,
        license_url, version, host_type, oa_status)
      SELECT id, ${token}::text, artifact_id, 'error', ${failure.reason}::text, ${d.message}::text,
        ${d.resolver}::text, ${d.tier}::integer, ${d.url}::text, ${d.finalUrl}::text, ${d.sha256}::text,
        ${d.bytes}::bigint, ${d.contentType}::text, ${d.path}::text, ${d.etag}::text, ${d.lastModified}::text,
        first_attempt_at, now, n, ${d.license}::text, ${d.licenseUrl}::text, ${d.version}::text,
        ${d.hostType}::text, ${d.oaStatus}::text
      FROM decided WHERE NOT retry),
    tried AS (
      INSERT INTO attempts (job_id, lease_token, role, resolver, tier, url, host, http_status, reason, bytes,
        elapsed_ms, rate_wait_ms, held_back_ms, at)
      SELECT d.id, ${token}::text, a.v->>'role', a.v->>'resolver', (a.v->>'tier')::integer, a.v->>'url', a.v->>'host',
        (a.v->>'http_status')::integer, a.v->>'reason', (a.v->>'bytes')::bigint, (a.v->>'elapsed_ms')::bigint,
        (a.v->>'rate_wait_ms')::bigint, (a.v->>'held_back_ms')::bigint, COALESCE((a.v->>'at')::bigint, d.now)
      FROM decided d, jsonb_array_elements(${attempts}::text::jsonb) WITH ORDINALITY AS a(v, n)
      ORDER BY a.n)
    SELECT retry, n, available_at FROM decided`;
  if (!row) return false;
  return row.retry
    ? { state: "queued", availableAt: num(row.available_at), attempts: row.n }
    : { state: "error", attempts: row.n };
}

export interface ReleaseParams {
  /** Ready again this long after now (negative counts as 0). */
  delayMs: number;
  attempts?: AckInput["attempts"];
  progress?: unknown;
}

export async function releaseJob(
  sql: SQL,
  jobId: number,
  token: string,
  p: ReleaseParams,
  ctx: FinishContext,
): Promise<boolean> {
  const attempts = attemptsJson(p.attempts);
  const setProgress = p.progress !== undefined;
  const progress = p.progress === undefined || p.progress === null ? null : JSON.stringify(p.progress);
  const [row] = await sql<{ n: string }[]>`
    WITH clock AS (SELECT docstokg_now_ms(${ctx.clock}::bigint) AS now),
    released AS (
      UPDATE jobs j SET state = 'queued', available_at = clock.now + greatest(0, ${Math.round(p.delayMs)}::bigint),
        lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_token = ${token}::text,
        progress = CASE WHEN ${setProgress}::boolean THEN ${progress}::text ELSE j.progress END,
        updated_at = clock.now
      FROM clock WHERE j.id = ${jobId}::bigint AND j.lease_token = ${token}::text AND j.state = 'in_progress'
      RETURNING j.id, clock.now AS now),
    tried AS (
      INSERT INTO attempts (job_id, lease_token, role, resolver, tier, url, host, http_status, reason, bytes,
        elapsed_ms, rate_wait_ms, held_back_ms, at)
      SELECT r.id, ${token}::text, a.v->>'role', a.v->>'resolver', (a.v->>'tier')::integer, a.v->>'url', a.v->>'host',
        (a.v->>'http_status')::integer, a.v->>'reason', (a.v->>'bytes')::bigint, (a.v->>'elapsed_ms')::bigint,
        (a.v->>'rate_wait_ms')::bigint, (a.v->>'held_back_ms')::bigint, COALESCE((a.v->>'at')::bigint, r.now)
      FROM released r, jsonb_array_elements(${attempts}::text::jsonb) WITH ORDINALITY AS a(v, n)
      ORDER BY a.n)
    SELECT count(*) AS n FROM released`;
  return Number(row?.n ?? 0) === 1;
}

/** Progress saved while working; false when the lease is lost. */
export async function saveProgress(
  sql: SQL,
  jobId: number,
  token: string,
  progress: unknown,
  ctx: FinishContext,
): Promise<boolean> {
  const json = progress === undefined || progress === null ? null : JSON.stringify(progress);
  const r = await sql`
    UPDATE jobs SET progress = ${json}::text, updated_at = docstokg_now_ms(${ctx.clock}::bigint)
    WHERE id = ${jobId}::bigint AND lease_token = ${token}::text AND state = 'in_progress'`;
  return r.count === 1;
}

// ---- Confirmation after an unanswered COMMIT: did this token finish the job already? ----

export async function confirmAck(sql: SQL, jobId: number, token: string): Promise<boolean> {
  const rows =
    await sql`SELECT 1 FROM outcomes WHERE job_id = ${jobId}::bigint AND lease_token = ${token}::text LIMIT 1`;
  return rows.length === 1;
}

export async function confirmFail(sql: SQL, jobId: number, token: string): Promise<FailResult | false> {
  const [row] = await sql<{ state: string; attempts: number; available_at: string }[]>`
    SELECT state, attempts, available_at FROM jobs
    WHERE id = ${jobId}::bigint AND finished_token = ${token}::text AND state IN ('queued', 'error')`;
  if (!row) return false;
  return row.state === "queued"
    ? { state: "queued", availableAt: num(row.available_at), attempts: row.attempts }
    : { state: "error", attempts: row.attempts };
}

export async function confirmRelease(sql: SQL, jobId: number, token: string): Promise<boolean> {
  const rows = await sql`
    SELECT 1 FROM jobs WHERE id = ${jobId}::bigint AND finished_token = ${token}::text AND state = 'queued'`;
  return rows.length === 1;
}
