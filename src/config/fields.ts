// The building blocks of the configuration schema: typed, documented fields with defaults and the
// bounds every command checks (durations a timer can wait, usable rates, absolute URLs).
import * as v from "valibot";
import { RATE_PATTERN, rateInterval } from "../core/rate.ts";

/**
 * The longest duration a timer can wait: setTimeout/AbortSignal.timeout take a 32-bit signed
 * number of milliseconds and treat anything larger (Infinity included) as 1 ms.
 */
export const MAX_TIMER_S = Math.floor((2 ** 31 - 1) / 1000);
/** Ages and freshness compared with timestamps only (never waited for): finite, at most 10 years. */
export const MAX_AGE_S = 10 * 365 * 86_400;

export const seconds = (def: number, description: string, min = 0, max = MAX_TIMER_S) =>
  v.optional(v.pipe(v.number(), v.minValue(min), v.maxValue(max), v.description(description)), def);
export const age = (def: number, description: string) => seconds(def, description, 0, MAX_AGE_S);
export const int = (def: number, description: string, min = 1) =>
  v.optional(v.pipe(v.number(), v.integer(), v.minValue(min), v.description(description)), def);
export const bool = (def: boolean, description: string) =>
  v.optional(v.pipe(v.boolean(), v.description(description)), def);
export const rate = (def: string | undefined, description: string) => {
  const s = v.pipe(
    v.string(),
    v.regex(RATE_PATTERN, 'a rate like "2/s", "1/3s", "100/min" or "1 per 3 s"'),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const r = rateInterval(dataset.value);
      if (!r.ok) addIssue({ message: `expected a usable rate: ${r.problem}` });
    }),
    v.description(description),
  );
  return def === undefined ? v.optional(s) : v.optional(s, def);
};
export const url = (def: string, description: string) =>
  v.optional(v.pipe(v.string(), v.url("an absolute http(s) URL"), v.description(description)), def);
export const secret = (description: string) =>
  v.optional(v.pipe(v.string(), v.minLength(1), v.description(description)));
