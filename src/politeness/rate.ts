// Rates for the limiter: the interval between two requests in milliseconds, parsed by core/rate.ts
// (which the config schema validates with, so a value that passes validation always parses here).
import { rateInterval } from "../core/rate.ts";

export class RateError extends Error {
  override name = "RateError";
}

/** Milliseconds between two requests (see core/rate.ts); throws RateError naming `where`. */
export function parseRate(value: string, where = "rate"): number {
  const r = rateInterval(value);
  if (!r.ok) throw new RateError(`${where}: ${r.problem}`);
  return r.intervalMs;
}

/** Requests per second for display ("0.333/s"); the inverse of an interval. */
export function formatInterval(intervalMs: number): string {
  if (!(intervalMs > 0)) return "unlimited";
  const perSecond = 1000 / intervalMs;
  return `${Number(perSecond.toPrecision(3))}/s`;
}
