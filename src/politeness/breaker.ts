// The circuit breaker of one host as a pure state machine: closed → open after consecutive failures →
// half-open after the reset time, when exactly one trial request may go → closed on its success, open
// again on its failure. the host-state store (src/store/host-state.ts) persists the state so every process sharing the database agrees.
import type { Observation } from "../net/politeness-port.ts";

export type BreakerPhase = "closed" | "open" | "half_open";

export interface BreakerState {
  phase: BreakerPhase;
  /** Consecutive failures while closed. */
  failures: number;
  /** While open: when the next trial may go. */
  openUntil: number;
  /** While half-open: a trial is out until then (0 = none); after it a new trial may be granted. */
  trialUntil: number;
}

export interface BreakerSettings {
  /** Consecutive failures that open the breaker (`politeness.breaker_failures`). */
  failureThreshold: number;
  /** Time open before a trial (`politeness.breaker_reset_s`). */
  resetMs: number;
  /** How long a granted trial blocks other trials if its answer never comes (crashed holder). */
  trialTtlMs: number;
}

export const CLOSED: BreakerState = { phase: "closed", failures: 0, openUntil: 0, trialUntil: 0 };

export type Admission =
  | { admit: true; trial: boolean; state: BreakerState }
  | { admit: false; retryAt: number; state: BreakerState };

/** May a request go to this host now? Granting the trial is itself a state change. */
export function breakerAdmit(s: BreakerState, now: number, cfg: BreakerSettings): Admission {
  if (s.phase === "closed") return { admit: true, trial: false, state: s };
  if (s.phase === "open" && now < s.openUntil) return { admit: false, retryAt: s.openUntil, state: s };
  if (s.phase === "half_open" && s.trialUntil > now) return { admit: false, retryAt: s.trialUntil, state: s };
  return {
    admit: true,
    trial: true,
    state: {
      phase: "half_open",
      failures: s.failures,
      openUntil: s.openUntil,
      trialUntil: now + cfg.trialTtlMs,
    },
  };
}

/** What an answer means for the breaker. */
export type Verdict = "success" | "failure" | "neutral";

/**
 * What shows a broken host is a failure: refused or reset connections, timeouts, TLS errors, and 5xx
 * without Retry-After. Back-pressure is not: a 429, or a 5xx that says when to come back (503 +
 * Retry-After), is left to the host's cool-down. Any other answer proves the host is up (a 404 or 403
 * is the host working).
 */
export function verdictOf(o: Observation): Verdict {
  if (o.failure !== undefined) return "failure";
  if (o.status === undefined) return "neutral";
  if (o.status === 429) return "neutral";
  if (o.status >= 500) return o.retryAfterMs !== undefined ? "neutral" : "failure";
  return "success";
}

/** Why an answer counted as a breaker failure, in reason words (`timeout`, `http_502`, …). */
export function failureCause(o: Observation): string | null {
  if (o.failure !== undefined) return o.failure;
  return o.status !== undefined && o.status >= 500 ? `http_${o.status}` : null;
}

/** Record an answer. Answers arriving while open came from requests sent before it opened: ignored. */
export function breakerRecord(s: BreakerState, v: Verdict, now: number, cfg: BreakerSettings): BreakerState {
  switch (s.phase) {
    case "closed":
      if (v === "success") return s.failures === 0 ? s : CLOSED;
      if (v === "neutral") return s;
      if (s.failures + 1 >= cfg.failureThreshold) {
        return { phase: "open", failures: s.failures + 1, openUntil: now + cfg.resetMs, trialUntil: 0 };
      }
      return { ...s, failures: s.failures + 1 };
    case "open":
      return s;
    case "half_open":
      if (v === "success") return CLOSED;
      if (v === "failure")
        return { phase: "open", failures: s.failures + 1, openUntil: now + cfg.resetMs, trialUntil: 0 };
      return breakerReleaseTrial(s);
  }
}

/** A granted trial that never went out (wait too long, cancelled): let the next request try. */
export function breakerReleaseTrial(s: BreakerState): BreakerState {
  return s.phase === "half_open" && s.trialUntil !== 0 ? { ...s, trialUntil: 0 } : s;
}
