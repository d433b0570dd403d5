// The port through which the HTTP client asks the politeness layer for permission and reports what
// hosts answered. The client owns the network; src/politeness implements this port (concurrency
// slots, GCRA rate tokens, cooldowns, crawl-delay and the circuit breaker, state in the database).
import type { Role } from "./types.ts";

export interface AcquireRequest {
  /** Host key (src/core/url.ts `hostKey`): lowercase, punycode, port only when non-default. */
  host: string;
  role: Role;
  /** Resolver on whose behalf the request is made (per-resolver concurrency). */
  resolver?: string;
  /** Abort waiting (caller cancelled): the promise then resolves `{ ok: false, reason: "cancelled" }`. */
  signal?: AbortSignal;
  /** Longest acceptable wait; if the next token/slot is further away, answer at once with `retryAt`. */
  maxWaitMs: number;
}

/** Held slots; `release` is idempotent and is called exactly when the request's network work ends. */
export interface Permit {
  ok: true;
  /** Time spent waiting for slots and the rate token. */
  waitedMs: number;
  /**
   * The part of `waitedMs` beyond the configured pacing: waiting out a cool-down the host imposed
   * (429/503, Retry-After, backoff). Absent means none.
   */
  heldBackMs?: number;
  release(): void;
}

export interface Refusal {
  ok: false;
  /** `rate_limited`: rate, cooldown (Retry-After) or crawl-delay wait exceeds maxWaitMs. */
  reason: "rate_limited" | "breaker_open" | "cancelled";
  /** Epoch ms when asking again may succeed. */
  retryAt: number;
}

/** What a host answered, fed to the breaker (consecutive failures) and cooldowns (429/503). */
export interface Observation {
  /** HTTP status when a response arrived (any status, 2xx included: successes close the breaker). */
  status?: number;
  /** Network failure kind when no response arrived. */
  failure?: "timeout" | "conn_error" | "tls_error";
  /** The service declared this status back-pressure (`HttpRequest.backPressure`): cool down as after a 429. */
  slowDown?: boolean;
  /** Parsed and capped Retry-After (ms from now), when the response carried one. */
  retryAfterMs?: number;
  /** Response headers, for hosts that announce their limits (Crossref `x-rate-limit-*`, `x-concurrency-limit`). */
  headers?: Headers;
  role?: Role;
}

export interface PolitenessGate {
  /** Wait for host+resolver concurrency slots and a rate token for (host, role); never wait past maxWaitMs. */
  acquire(p: AcquireRequest): Promise<Permit | Refusal>;
  /** Report a host's answer: statuses, failure kinds and Retry-After feed the breaker and cooldowns. */
  observe(host: string, o: Observation): void;
  /**
   * robots.txt `Crawl-delay` for a host, already capped by `politeness.crawl_delay_cap_s`: a minimum
   * interval between requests of roles landing and artifact. 0 clears it.
   */
  setMinInterval(host: string, ms: number): void;
}
