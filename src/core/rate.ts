// Rates as people write them ("10/s", "1/3s", "100/min", "1 per 3 s") and the one number the limiter
// needs: milliseconds between two requests. Shared by the config schema, which refuses a rate the
// limiter could not use, and politeness/rate.ts, so a value that passes validation always works.

/** Groups: count, optional period length, unit. */
export const RATE_PATTERN =
  /^\s*(\d+(?:\.\d+)?)\s*(?:\/|\s+per\s+)\s*(\d+(?:\.\d+)?)?\s*(ms|s|secs?|seconds?|m|mins?|minutes?|h|hours?)\s*$/;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
};

/** The slowest rate accepted: one request a day (a longer interval would overflow timers and waits). */
export const MAX_RATE_INTERVAL_MS = 86_400_000;

export type RateInterval = { ok: true; intervalMs: number } | { ok: false; problem: string };

/**
 * Milliseconds between two requests for a rate such as "2/1.5s" (= 750). The period's own number
 * counts: "1 per 3 s" is one request every 3000 ms, not every second.
 */
export function rateInterval(value: string): RateInterval {
  const m = RATE_PATTERN.exec(value);
  if (!m) {
    return {
      ok: false,
      problem: `"${value}" is not a rate; expected requests per period like "2/s", "1/3s", "100/min" or "1 per 3 s"`,
    };
  }
  const count = Number(m[1]);
  const periods = m[2] === undefined ? 1 : Number(m[2]);
  const unitMs = UNIT_MS[(m[3] ?? "").toLowerCase()] as number;
  if (!(count > 0)) return { ok: false, problem: `"${value}" allows no requests; the count must be above 0` };
  if (!(periods > 0)) return { ok: false, problem: `"${value}" has an empty period; it must be above 0` };
  const intervalMs = (periods * unitMs) / count;
  if (!(intervalMs <= MAX_RATE_INTERVAL_MS)) {
    return { ok: false, problem: `"${value}" is slower than one request a day; expected at least "1/24h"` };
  }
  return { ok: true, intervalMs };
}
