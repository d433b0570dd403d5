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
  /**
   * GET unless said otherwise. A POST (figshare's search takes a JSON body) is for read-only
   * queries only: it is cached and retried like a GET, keyed by method, URL and body.
   */
  method?: "GET" | "POST";
  /** The request body of a POST (the caller sets its content-type). */
  body?: string;
  /** Caller's cancellation (lease loss, shutdown, a sibling candidate won). */
  signal?: AbortSignal;
  /**
   * Longest the caller will wait for politeness (rate/cooldown/crawl-delay) before giving up with
   * `rate_limited`. Default `politeness.max_wait_s`, read by the client (src/net/fetch.ts); only a
   * caller with its own bound sets it (an OpenAlex pull waits as long as a Retry-After may ask).
   */
  maxWaitMs?: number;
  /**
   * Landing pages and files: how many 429/503 answers are asked again within this request, each after
   * the host's announced wait (or its backoff). Default `download.retries`.
   */
  slowDownRetries?: number;
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
  /** The part of `rateWaitMs` spent in cool-downs the host imposed (beyond the configured pacing). */
  heldBackMs?: number;
  /** Answered from a fresh metadata cache entry: nothing was sent (telemetry counts no request). */
  fromCache?: boolean;
  /** 429/503 answers asked again before this one (landing pages and files). */
  slowDowns?: number;
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
      /**
       * 429/503 answers this request met (landing pages and files). With `status` 429/503 the retries
       * are used up; without a status the wait before the next retry was longer than the caller's.
       */
      slowDowns?: number;
    };

/** A host asked to be left alone and the request will be asked again after the wait. */
export interface SlowDownNotice {
  url: string;
  host: string;
  status: number;
  /** The announced wait; undefined when the host gave none (its backoff applies). */
  retryAfterMs?: number;
  /** This retry's number (1-based) and how many are allowed. */
  retry: number;
  of: number;
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResult>;
}
