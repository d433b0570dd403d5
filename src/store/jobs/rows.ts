// Raw rows of the jobs, attempts and outcomes tables and their mapping to the contract's shapes.
// Column lists live here so every query selects the same fields.
import type { Artifact } from "../../artifact/artifact.ts";
import type { AttemptRow, JobRow, JobState, OutcomeRow, TerminalState } from "../types.ts";

export const JOB_COLUMNS = `id, artifact_id, artifact, state, priority, attempts, max_attempts, available_at,
  lease_owner, lease_expires_at, first_attempt_at, last_reason, last_error, progress, created_at, updated_at`;

export interface JobRecord {
  id: number;
  artifact_id: string;
  artifact: string;
  state: JobState;
  priority: number;
  attempts: number;
  max_attempts: number | null;
  available_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  first_attempt_at: number | null;
  last_reason: string | null;
  last_error: string | null;
  progress: string | null;
  created_at: number;
  updated_at: number;
}

/** JSON stored by this program or a converted reference database; never throws. */
export function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function parseArtifact(text: string, artifactId: string): Artifact {
  const value = parseJson(text);
  const obj =
    value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Artifact) : null;
  return obj ? { ...obj, id: artifactId } : { id: artifactId };
}

export function toJobRow(r: JobRecord): JobRow {
  return {
    id: r.id,
    artifactId: r.artifact_id,
    artifact: parseArtifact(r.artifact, r.artifact_id),
    state: r.state,
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    availableAt: r.available_at,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    firstAttemptAt: r.first_attempt_at,
    lastReason: r.last_reason,
    lastError: r.last_error,
    progress: parseJson(r.progress),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface AttemptRecordRow {
  id: number;
  job_id: number;
  lease_token: string | null;
  resolver: string | null;
  tier: number | null;
  url: string | null;
  host: string | null;
  http_status: number | null;
  reason: string | null;
  bytes: number | null;
  elapsed_ms: number | null;
  rate_wait_ms: number | null;
  /** Absent from databases older than migration 10 read through a view without it. */
  held_back_ms?: number | null;
  at: number;
  role: "metadata" | "landing" | "artifact" | null;
}

export function toAttemptRow(r: AttemptRecordRow): AttemptRow {
  return {
    id: r.id,
    jobId: r.job_id,
    resolver: r.resolver,
    tier: r.tier,
    url: r.url,
    host: r.host,
    httpStatus: r.http_status,
    reason: r.reason,
    bytes: r.bytes,
    elapsedMs: r.elapsed_ms,
    rateWaitMs: r.rate_wait_ms,
    heldBackMs: r.held_back_ms ?? null,
    role: r.role ?? null,
    at: r.at,
  };
}

export interface OutcomeRecordRow {
  seq: number;
  job_id: number;
  artifact_id: string;
  state: TerminalState;
  reason: string;
  message: string | null;
  resolver: string | null;
  tier: number | null;
  url: string | null;
  final_url: string | null;
  sha256: string | null;
  bytes: number | null;
  content_type: string | null;
  path: string | null;
  etag: string | null;
  last_modified: string | null;
  first_attempt_at: number | null;
  finished_at: number;
  attempts: number;
  license: string | null;
  license_url: string | null;
  version: string | null;
  host_type: string | null;
  oa_status: string | null;
}

export function toOutcomeRow(r: OutcomeRecordRow): OutcomeRow {
  return {
    seq: r.seq,
    jobId: r.job_id,
    artifactId: r.artifact_id,
    state: r.state,
    reason: r.reason,
    message: r.message,
    resolver: r.resolver,
    tier: r.tier,
    url: r.url,
    finalUrl: r.final_url,
    sha256: r.sha256,
    bytes: r.bytes,
    contentType: r.content_type,
    path: r.path,
    etag: r.etag,
    lastModified: r.last_modified,
    firstAttemptAt: r.first_attempt_at,
    finishedAt: r.finished_at,
    attempts: r.attempts,
    license: r.license ?? null,
    licenseUrl: r.license_url ?? null,
    version: r.version ?? null,
    hostType: r.host_type ?? null,
    oaStatus: r.oa_status ?? null,
  };
}

/** An outcome with its job's artifact: what the manifest and `manifest export` write per line. */
export const OUTCOME_WITH_ARTIFACT_COLUMNS = `o.seq, o.job_id, o.artifact_id, o.state, o.reason, o.message,
    o.resolver, o.tier, o.url, o.final_url, o.sha256, o.bytes, o.content_type, o.path, o.etag,
    o.last_modified, o.first_attempt_at, o.finished_at, o.attempts, o.license, o.license_url, o.version,
    o.host_type, o.oa_status, j.artifact`;

export interface OutcomeWithArtifactRecordRow extends OutcomeRecordRow {
  artifact: string | null;
}

export interface OutcomeWithArtifact extends OutcomeRow {
  /** The artifact (SPEC 2.1) the job was created from, when known. */
  artifact: Record<string, unknown> | null;
}

export function toOutcomeWithArtifact(r: OutcomeWithArtifactRecordRow): OutcomeWithArtifact {
  return { ...toOutcomeRow(r), artifact: artifactObject(r.artifact) };
}

/** The stored artifact JSON as an object (null when absent or not an object). */
function artifactObject(json: string | null): Record<string, unknown> | null {
  const value = parseJson(json);
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}
