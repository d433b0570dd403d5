// PostgreSQL rows to the contract's shapes. bigint columns arrive as strings (Bun's default, exact
// for any size); every id, count and time here is far below 2^53, so they become numbers, and the
// SQLite mappers (../../jobs/rows.ts) take over from there.
import {
  type AttemptRecordRow,
  type JobRecord,
  type OutcomeRecordRow,
  toAttemptRow,
  toJobRow,
  toOutcomeRow,
} from "../../jobs/rows.ts";
import type { AttemptRow, JobRow, OutcomeRow } from "../../types.ts";

/** A bigint or numeric value as a number; null stays null. */
export function num(x: unknown): number {
  return typeof x === "number" ? x : Number(x);
}

export function numOrNull(x: unknown): number | null {
  return x === null || x === undefined ? null : num(x);
}

function numbers<T>(row: Record<string, unknown>, keys: readonly string[]): T {
  const out: Record<string, unknown> = { ...row };
  for (const k of keys) if (k in out) out[k] = numOrNull(out[k]);
  return out as T;
}

const JOB_NUMBERS = [
  "id",
  "available_at",
  "lease_expires_at",
  "first_attempt_at",
  "created_at",
  "updated_at",
] as const;
const ATTEMPT_NUMBERS = [
  "id",
  "job_id",
  "bytes",
  "elapsed_ms",
  "rate_wait_ms",
  "held_back_ms",
  "at",
] as const;
const OUTCOME_NUMBERS = ["seq", "job_id", "bytes", "first_attempt_at", "finished_at"] as const;

export const PG_JOB_COLUMNS = `id, artifact_id, artifact, state, priority, attempts, max_attempts, available_at,
  lease_owner, lease_expires_at, first_attempt_at, last_reason, last_error, progress, created_at, updated_at`;

export function pgJobRow(r: Record<string, unknown>): JobRow {
  return toJobRow(numbers<JobRecord>(r, JOB_NUMBERS));
}

export function pgAttemptRow(r: Record<string, unknown>): AttemptRow {
  return toAttemptRow(numbers<AttemptRecordRow>(r, ATTEMPT_NUMBERS));
}

export function pgOutcomeRow(r: Record<string, unknown>): OutcomeRow {
  return toOutcomeRow(numbers<OutcomeRecordRow>(r, OUTCOME_NUMBERS));
}
