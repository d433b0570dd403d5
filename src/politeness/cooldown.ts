// Host cool-downs after "slow down" answers (429, 503): the host's Retry-After when it sent one
// (capped), otherwise an exponential backoff of the host that a normal answer resets. Pure. An error
// answer can only push the cool-down later, never bring it forward.
import type { Observation } from "../net/politeness-port.ts";

export interface CooldownState {
  /** No request to the host before this time (epoch ms; 0 = none). */
  until: number;
  /** Last backoff used when the host gave no Retry-After (0 = none pending). */
  backoffMs: number;
}

export interface CooldownSettings {
  /** First backoff without Retry-After (host table: 1 s, the Wayback Machine 60 s). */
  initialBackoffMs: number;
  /** Longest cool-down (`politeness.retry_after_cap_s`), for Retry-After and backoff alike. */
  capMs: number;
}

export const NO_COOLDOWN: CooldownState = { until: 0, backoffMs: 0 };

export function isSlowDown(status: number | undefined): boolean {
  return status === 429 || status === 503;
}

export function cooldownAfter(
  s: CooldownState,
  o: Observation,
  now: number,
  cfg: CooldownSettings,
): CooldownState {
  if (isSlowDown(o.status) || o.slowDown === true) {
    if (o.retryAfterMs !== undefined && Number.isFinite(o.retryAfterMs)) {
      const wait = Math.min(Math.max(0, o.retryAfterMs), cfg.capMs);
      return { until: Math.max(s.until, now + wait), backoffMs: s.backoffMs };
    }
    // Requests already in flight when the first 429 arrived answer 429 too: they must not double the
    // backoff again, only a 429 after the cool-down has passed does.
    if (now < s.until && s.backoffMs > 0) return s;
    const backoffMs = Math.min(s.backoffMs > 0 ? s.backoffMs * 2 : cfg.initialBackoffMs, cfg.capMs);
    return { until: Math.max(s.until, now + backoffMs), backoffMs };
  }
  // Any other answer from the host (2xx–4xx) ends the escalation; the cool-down itself stands, since
  // the answer may come from a request sent before it began.
  if (o.status !== undefined && o.status < 500 && s.backoffMs !== 0) return { until: s.until, backoffMs: 0 };
  return s;
}
