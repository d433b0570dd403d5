// The contract of the one HTTP client every part of docstokg uses (implemented in src/net/fetch.ts).
// Resolvers, the download pipeline and robots all go through it, so every request passes the URL
// gate, robots (where it applies), the host breaker and the rate/concurrency limiters.
import type { Reason } from "../core/reasons.ts";

/** Politeness role of a request: sets headers, rate budget and whether robots.txt applies. */
export type Role = "metadata" | "landing" | "artifact";

export interface HttpRequest {
  url: string;
  role: Role;
  /** Resolver on whose behalf the request is made (per-resolver concurrency, telemetry). */
  resolver?: string;
  headers?: Record<string, string>;
  /** Caller's cancellation (lease loss, shutdown, a sibling candidate won). */
  signal?: AbortSignal;
  /** Longest the caller will wait for politeness (rate/cooldown/crawl-delay) before giving up with `rate_limited`. */
  maxWaitMs?: number;
  /** Metadata only: false asks the network even when a fresh copy is cached, and stores nothing. */
  cache?: boolean;
  /**
   * Statuses that mean "slower" from this service rather than "no" (OpenAlex answers 403 when a key
   * goes too fast): the host cools down as after a 429, the answer is `rate_limited` and retried.
   */
  backPressure?: readonly number[];
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Final URL after redirects. */
  url: string;
  /** Every URL visited, first to last (the request URL first). */
  redirects: string[];
  /** The body; the caller must consume or cancel it. Idle/total timeouts keep applying while it is read. */
  body: ReadableStream<Uint8Array> | null;
  /** Time spent waiting on the limiters before the request went out. */
  rateWaitMs: number;
  /** Answered from a fresh metadata cache entry: nothing was sent (telemetry counts no request). */
  fromCache?: boolean;
  /** Release the host/resolver slots early (called automatically when the body ends or errors). */
  release(): void;
}

/**
 * `ok` is true for 2xx and 304 only. Every other status, and every refusal or network failure, is
 * `ok: false` with the reason mapped in one place (404/410 → not_found, 401/403 → forbidden,
 * 429 → rate_limited, other statuses → http_<status>). Metadata requests are retried inside the
 * client before it answers.
 */
export type HttpResult =
  | { ok: true; response: HttpResponse }
  | {
      ok: false;
      reason: Reason;
      message: string;
      status?: number;
      /** When the host asked us to come back (Retry-After, cooldown, breaker reset), epoch ms. */
      retryAt?: number;
      url: string;
    };

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResult>;
}
