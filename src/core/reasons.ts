// The stable outcome reasons (SPEC 6). They appear in the database, the manifest, metrics and the
// report, so a reason string is never renamed.

export const PERMANENT_REASONS = [
  "ok",
  "not_modified",
  "duplicate_content",
  "no_candidates",
  "not_found",
  "forbidden",
  "blocked",
  "html_only",
  "not_pdf",
  "too_large",
  "robots_disallowed",
  "url_refused",
  "budget_exhausted",
] as const;

export const TRANSIENT_REASONS = [
  "truncated",
  "timeout",
  "conn_error",
  "tls_error",
  "breaker_open",
  "rate_limited",
  "lease_lost",
  "cancelled",
  // The library's filesystem ran out of space (ENOSPC/EDQUOT): the runner releases the job without
  // counting an attempt and stops leasing until space returns.
  "disk_full",
  // The library's object store failed (5xx, SlowDown, timeouts, resets) on every retry: released
  // like disk_full, without counting an attempt.
  "store_unavailable",
] as const;

export type NamedReason = (typeof PERMANENT_REASONS)[number] | (typeof TRANSIENT_REASONS)[number];
/** `http_<status>` covers statuses without a named reason (e.g. http_500, http_410). */
export type Reason = NamedReason | `http_${number}`;

const transient = new Set<string>(TRANSIENT_REASONS);

/** Whether a failure with this reason is worth another attempt later. */
export function isTransient(reason: Reason): boolean {
  if (transient.has(reason)) return true;
  const m = /^http_(\d{3})$/.exec(reason);
  if (!m) return false;
  const status = Number(m[1]);
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Why some work was not done, stated once: a plan's verdict is one, the job step's failure extends it
 * with what the step gathered, and the commit carries it to the store.
 */
export interface Failure {
  reason: Reason;
  /** Worth another attempt later (the job is retried). */
  transient: boolean;
  /** One line saying what went wrong, naming the URL or resolver. */
  message: string;
  /** When trying again may succeed (Retry-After, cool-down, breaker reset, quota reset), epoch ms. */
  retryAt?: number;
}
