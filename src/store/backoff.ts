// Retry timing: exponential backoff with full jitter (a uniform draw between 0 and the capped
// exponential), so jobs that failed together do not come back together. An origin's Retry-After
// replaces the draw.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** The ceiling of the draw for the n-th failed attempt (1-based): min(cap, base·2^(n-1)). */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^1100 is Infinity; min() with the cap keeps the result finite.
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

/** A full-jitter delay for the n-th failed attempt; `random` returns a number in [0, 1). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeilingMs(attempt, policy));
}

/** When a job that failed its n-th attempt becomes ready again. */
export function retryAvailableAt(
  now: number,
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
  retryAt?: number,
): number {
  if (retryAt !== undefined && Number.isFinite(retryAt)) return Math.max(now, Math.floor(retryAt));
  return now + backoffDelayMs(attempt, policy, random);
}
