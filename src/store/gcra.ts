// The generic cell rate algorithm (GCRA) as a reservation: a request is given the earliest start time
// its host's budget allows, and that slot is spent now, so the caller sleeps until it and the store
// is written once per request. Pure: the SQL of the host-state stores computes exactly this (tested for equality).

export interface GcraDecision {
  /** False when the wait would exceed the caller's limit; nothing was reserved. */
  allowed: boolean;
  /** Earliest time (epoch ms) the request may go out. */
  startAt: number;
  /** startAt - now (>= 0). */
  waitMs: number;
  /** Theoretical arrival time to store: the old one when not allowed. */
  tat: number;
}

/**
 * Reserve one request. `tat` is the stored theoretical arrival time (0 when the key is new),
 * `intervalMs` the emission interval (1/rate) and `burst` how many requests may go back to back.
 * Any window of length t then holds at most `burst + t / intervalMs` starts.
 */
export function gcraReserve(
  tat: number,
  now: number,
  intervalMs: number,
  burst: number,
  maxWaitMs = Number.POSITIVE_INFINITY,
): GcraDecision {
  const tolerance = (Math.max(1, burst) - 1) * intervalMs;
  const startAt = Math.max(now, tat - tolerance);
  const waitMs = startAt - now;
  if (waitMs > maxWaitMs) return { allowed: false, startAt, waitMs, tat };
  return { allowed: true, startAt, waitMs, tat: Math.max(tat, now) + intervalMs };
}

/** When the next request on this key could start without waiting. */
export function gcraNextAt(tat: number, now: number, intervalMs: number, burst: number): number {
  return Math.max(now, tat - (Math.max(1, burst) - 1) * intervalMs);
}
