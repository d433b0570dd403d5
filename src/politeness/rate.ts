// Rates as people write them ("10/s", "1/3s", "100/min", "1 per 3 s") turned into the one number the
// limiter needs: the interval between two requests in milliseconds. Pure; the config schema uses the
// same pattern, so a value that passes validation always parses here.
import { RATE_PATTERN } from "../config/schema.ts";

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

export class RateError extends Error {
  override name = "RateError";
}

/**
 * Milliseconds between two requests for a rate such as "2/1.5s" (= 750). The period's own number
 * counts: "1 per 3 s" is one request every 3000 ms, not every second.
 */
export function parseRate(value: string, where = "rate"): number {
  const m = RATE_PATTERN.exec(value);
  if (!m) {
    throw new RateError(
      `${where}: "${value}" is not a rate; expected requests per period like "2/s", "1/3s", "100/min" or "1 per 3 s"`,
    );
  }
  const count = Number(m[1]);
  const periods = m[2] === undefined ? 1 : Number(m[2]);
  const unitMs = UNIT_MS[(m[3] ?? "").toLowerCase()];
  if (unitMs === undefined) throw new RateError(`${where}: "${value}" has an unknown unit "${m[3]}"`);
  if (!(count > 0)) throw new RateError(`${where}: "${value}" allows no requests; the count must be above 0`);
  if (!(periods > 0)) throw new RateError(`${where}: "${value}" has an empty period; it must be above 0`);
  return (periods * unitMs) / count;
}

/** Requests per second for display ("0.333/s"); the inverse of an interval. */
export function formatInterval(intervalMs: number): string {
  if (!(intervalMs > 0)) return "unlimited";
  const perSecond = 1000 / intervalMs;
  return `${Number(perSecond.toPrecision(3))}/s`;
}
