// The slow-down wrapper of landing pages and files: a 429 or 503 is back-pressure, not an answer,
// so the same request is asked again (through the politeness wait that now honours the host's
// cool-down) up to a number of times before its failure is the answer.
import { hostKey } from "../core/url.ts";
import type { Exchange, HopOptions } from "./hop.ts";
import type { HttpRequest, HttpResult, SlowDownNotice } from "./types.ts";

export interface SlowDownOptions {
  /** Retries when the request does not say (`download.retries`). */
  retries: number;
  now: () => number;
  /** Told before a 429/503 is asked again (`fetch` says what it waits for). */
  onSlowDown?: (notice: SlowDownNotice) => void;
}

/**
 * The observation of a 429/503 set the host's cool-down (Retry-After, else the host backoff), so the
 * next exchange's politeness wait honours it for every process; the same request asks again up to
 * `slowDownRetries` times. A wait longer than the caller's ends it with the limiter's refusal (the
 * job is parked or released).
 */
export function withSlowDownRetries(
  exchange: Exchange,
  o: SlowDownOptions,
): (req: HttpRequest, hop: HopOptions) => Promise<HttpResult> {
  return async (req, hop) => {
    const allowed = req.slowDownRetries ?? o.retries;
    let slowDowns = 0;
    for (;;) {
      const r = await exchange(req, hop, o.now());
      if (r.ok) {
        if (slowDowns > 0) r.response.slowDowns = slowDowns;
        return r;
      }
      const { retryAfterMs: _, ...result } = r;
      const slowDown = r.status === 429 || r.status === 503;
      if (slowDown) slowDowns++;
      if (slowDowns > 0) result.slowDowns = slowDowns;
      if (!slowDown || slowDowns > allowed || req.signal?.aborted) return result;
      o.onSlowDown?.({
        url: r.url,
        host: hostKey(r.url),
        status: r.status as number,
        retryAfterMs: r.retryAfterMs,
        retry: slowDowns,
        of: allowed,
      });
    }
  };
}
