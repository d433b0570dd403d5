// The one HTTP client of docstokg (`HttpClient`, src/net/types.ts). Every hop passes the URL gate
// (connecting to the vetted address), robots.txt for landing/artifact, and the politeness port;
// timeouts (connect/header, idle between chunks, total) keep applying while the caller reads the
// body; metadata requests are cached and retried; every outcome gets its reason in outcome.ts.
import type { Config } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";
import { hostKey, originOf, parseUrl } from "../core/url.ts";
import type { MetadataCache } from "./cache.ts";
import { decodeBody } from "./content-coding.ts";
import { createUrlGate, type Lookup } from "./gate.ts";
import { urlHostOf } from "./ip.ts";
import { HttpFailure, isRetryable, outcomeReason } from "./outcome.ts";
import type { PolitenessGate } from "./politeness-port.ts";
import { backoffMs, parseRetryAfter } from "./retry.ts";
import { createRobotsCache, ROBOTS_MAX_BYTES, type RobotsFetch } from "./robots.ts";
import type { RobotsStore } from "./robots-store.ts";
import type { HttpClient, HttpRequest, HttpResponse, HttpResult, Role, SlowDownNotice } from "./types.ts";

export type { PolitenessGate } from "./politeness-port.ts";

/** The transport: the platform `fetch` (tests may wrap it to prove where packets go). */
export type Transport = (url: string, init: TransportInit) => Promise<Response>;

/** `decompress: false` (Bun): the body arrives as sent, Content-Encoding and all. */
export type TransportInit = RequestInit & { tls?: { serverName?: string }; decompress?: boolean };

export interface HttpClientDeps {
  config: Config;
  politeness: PolitenessGate;
  /** docstokg version for the User-Agent. */
  version: string;
  now?: () => number;
  lookup?: Lookup;
  transport?: Transport;
  /** Metadata cache; without it metadata is not cached. */
  cache?: MetadataCache;
  /** robots.txt verdicts shared with other processes; without it each client keeps its own. */
  robotsStore?: RobotsStore;
  /** Told before a 429/503 of a landing page or file is asked again (`fetch` says what it waits for). */
  onSlowDown?: (notice: SlowDownNotice) => void;
  random?: () => number;
}

export const ROLE_ACCEPT: Record<Role, string> = {
  artifact: "application/pdf, */*;q=0.1",
  metadata: "application/json",
  landing: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 30_000;
const ROBOTS_REDIRECTS = 5;

/** `docstokg/<version> (+mailto:<contact>)`; no mailto without a contact address. */
export function userAgent(config: Config, version: string): string {
  const product = config.network.user_agent ?? `docstokg/${version}`;
  return config.contact_email ? `${product} (+mailto:${config.contact_email})` : product;
}

type Failure = Extract<HttpResult, { ok: false }>;

const fail = (reason: Reason, message: string, url: string, extra: Partial<Failure> = {}): Failure => ({
  ok: false,
  reason,
  message,
  url,
  ...extra,
});

interface HopOptions {
  role: Role;
  /** Role whose rate token is spent (robots.txt is fetched on the landing budget). */
  rateRole: Role;
  checkRobots: boolean;
  maxRedirects: number;
}

export function createHttpClient(deps: HttpClientDeps): HttpClient {
  const { config, politeness } = deps;
  const net = config.network;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const transport: Transport = deps.transport ?? ((url, init) => fetch(url, init));
  const gate = createUrlGate({ allowPrivate: net.allow_private, lookup: deps.lookup, now });
  const ua = userAgent(config, deps.version);
  const retryAfterCapMs = config.politeness.retry_after_cap_s * 1000;
  const robots = createRobotsCache({
    productToken: (config.network.user_agent ?? "docstokg").split("/")[0] as string,
    ttlMs: config.politeness.robots_ttl_s * 1000,
    crawlDelayCapMs: config.politeness.crawl_delay_cap_s * 1000,
    now,
    fetchRobots,
    onCrawlDelay: (origin, ms) => politeness.setMinInterval(hostKey(origin), ms),
    store: deps.robotsStore,
  });

  /**
   * One request with its redirects: gate, robots and politeness on every hop. Answers the final
   * response with the slot still held (released when the body ends) or a failure.
   */
  async function exchange(
    req: HttpRequest,
    hop: HopOptions,
    startedAt: number,
    extraHeaders: Record<string, string> = {},
  ): Promise<HttpResult & { retryAfterMs?: number }> {
    const maxWaitMs = req.maxWaitMs ?? config.politeness.max_wait_s * 1000;
    const first = parseUrl(req.url);
    if (!first.ok) return fail("url_refused", first.message, req.url);
    let url = first.url;
    // A 303, or a 301/302 answering a POST, turns the request into a GET without body (as browsers
    // and fetch do); 307/308 repeat the method and body.
    let method = req.method ?? "GET";
    let body = method === "POST" ? req.body : undefined;
    const visited: string[] = [];
    const seen = new Set<string>();
    let waited = 0;
    let heldBack = 0;
    for (;;) {
      visited.push(url.href);
      seen.add(url.href);
      const checked = gate.check(url);
      const verdict = checked instanceof Promise ? await checked : checked;
      if (!verdict.ok) return fail(verdict.reason, verdict.message, url.href);
      if (hop.checkRobots && config.politeness.robots) {
        const r = await robots.check(url, originOf(url));
        if (!r.allowed) {
          return fail(r.reason, r.message, url.href, "retryAt" in r ? { retryAt: r.retryAt } : {});
        }
      }
      if (req.signal?.aborted) return fail("cancelled", `request for ${url.href} was cancelled`, url.href);
      const host = hostKey(url);
      const permit = await politeness.acquire({
        host,
        role: hop.rateRole,
        resolver: req.resolver,
        signal: req.signal,
        maxWaitMs: Math.max(0, maxWaitMs - waited),
      });
      if (!permit.ok) {
        const why =
          permit.reason === "breaker_open"
            ? `the circuit breaker of ${host} is open`
            : permit.reason === "cancelled"
              ? `request for ${url.href} was cancelled`
              : `${host} cannot take a ${hop.rateRole} request within ${maxWaitMs} ms`;
        return fail(permit.reason, why, url.href, { retryAt: permit.retryAt });
      }
      waited += permit.waitedMs;
      heldBack += permit.heldBackMs ?? 0;
      const sent = await send(url, verdict.address, req, hop.role, startedAt, permit.release, extraHeaders, {
        method,
        body,
      });
      if (!sent.ok) {
        const failure = failureKind(sent.reason);
        if (failure) politeness.observe(host, { failure, role: hop.role });
        return { ...sent, url: url.href };
      }
      const res = sent.response;
      const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), now(), retryAfterCapMs);
      const slowDown = req.backPressure?.includes(res.status) === true;
      politeness.observe(host, {
        status: res.status,
        retryAfterMs,
        headers: res.headers,
        role: hop.role,
        ...(slowDown ? { slowDown } : {}),
      });
      const location = res.headers.get("location");
      if (REDIRECTS.has(res.status) && location !== null) {
        await sent.discard();
        const next = parseUrl(location, url.href);
        if (!next.ok)
          return fail(`http_${res.status}`, `redirect from ${url.href}: ${next.message}`, url.href);
        if (seen.has(next.url.href)) {
          return fail(
            `http_${res.status}`,
            `redirect loop: ${[...visited, next.url.href].join(" → ")}`,
            url.href,
          );
        }
        if (visited.length > hop.maxRedirects) {
          return fail(
            `http_${res.status}`,
            `more than ${hop.maxRedirects} redirects from ${req.url}`,
            url.href,
          );
        }
        url = next.url;
        if (res.status === 303 || (method === "POST" && (res.status === 301 || res.status === 302))) {
          method = "GET";
          body = undefined;
        }
        continue;
      }
      const reason = slowDown ? "rate_limited" : outcomeReason({ status: res.status });
      if (reason !== "ok") {
        await sent.discard();
        const retryAt = retryAfterMs !== undefined ? now() + retryAfterMs : undefined;
        return {
          ...fail(reason, `${url.href} answered ${res.status}`, url.href, { status: res.status, retryAt }),
          retryAfterMs,
        };
      }
      const response: HttpResponse = {
        status: res.status,
        headers: res.headers,
        url: url.href,
        redirects: visited,
        body: sent.body,
        rateWaitMs: waited,
        heldBackMs: heldBack,
        release: sent.release,
      };
      return { ok: true, response };
    }
  }

  type Sent =
    | {
        ok: true;
        response: Response;
        body: ReadableStream<Uint8Array> | null;
        release(): void;
        discard(): Promise<void>;
      }
    | Failure;

  /** One request to the vetted address with the timeouts armed; the body keeps them until it ends. */
  async function send(
    url: URL,
    address: string,
    req: HttpRequest,
    role: Role,
    startedAt: number,
    releasePermit: () => void,
    extraHeaders: Record<string, string>,
    what: { method: "GET" | "POST"; body?: string },
  ): Promise<Sent> {
    const ac = new AbortController();
    let timers: ReturnType<typeof setTimeout>[] = [];
    let ended = false;
    const onCallerAbort = () =>
      ac.abort(new HttpFailure("cancelled", `request for ${url.href} was cancelled`));
    const end = () => {
      if (ended) return;
      ended = true;
      for (const t of timers) clearTimeout(t);
      timers = [];
      req.signal?.removeEventListener("abort", onCallerAbort);
      releasePermit();
    };
    const timeout = (ms: number, what: string) =>
      setTimeout(() => ac.abort(new HttpFailure("timeout", `${what} after ${ms} ms: ${url.href}`)), ms);
    req.signal?.addEventListener("abort", onCallerAbort, { once: true });
    if (req.signal?.aborted) onCallerAbort();
    const totalMs = Math.max(0, net.total_timeout_s * 1000 - (now() - startedAt));
    timers.push(timeout(totalMs, "no complete answer"));
    const headerTimer = timeout(net.connect_timeout_s * 1000, "no response headers");
    timers.push(headerTimer);

    // Files and pages are asked for as sent and never decoded by the runtime, which would inflate a
    // compressed body without a bound: a server that compresses anyway is decoded by decodeBody,
    // which counts the decoded bytes. Metadata (small JSON answers) keeps the runtime's decoding.
    const selfDecoding = role !== "metadata";
    const headers: Record<string, string> = {
      "user-agent": ua,
      accept: ROLE_ACCEPT[role],
      ...(selfDecoding ? { "accept-encoding": "identity" } : {}),
      ...req.headers,
      ...extraHeaders,
    };
    // Connect to the address the gate vetted, naming the host in Host (and SNI for https).
    const literal = address === url.hostname || url.hostname.startsWith("[");
    let target = url.href;
    const init: TransportInit = {
      method: what.method,
      redirect: "manual",
      signal: ac.signal,
      headers,
      ...(selfDecoding ? { decompress: false } : {}),
    };
    if (what.body !== undefined) init.body = what.body;
    if (!literal) {
      const pinned = new URL(url.href);
      pinned.hostname = urlHostOf(address);
      target = pinned.href;
      headers.host = url.host;
      if (url.protocol === "https:") init.tls = { serverName: url.hostname };
    }
    let res: Response;
    try {
      res = await transport(target, init);
    } catch (error) {
      end();
      const reason = outcomeReason({ error: ac.signal.aborted ? ac.signal.reason : error });
      return fail(reason, describe(error, ac.signal, url), url.href);
    }
    clearTimeout(headerTimer);
    // Without the runtime's decoding, Content-Length counts the bytes on the wire, encoded or not.
    const encoding = res.headers.get("content-encoding");
    const declared = encoding && !selfDecoding ? null : res.headers.get("content-length");
    const guarded = res.body
      ? guardBody(res.body, {
          ac,
          idleMs: net.idle_timeout_s * 1000,
          maxBytes: config.download.max_bytes,
          expected: declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined,
          url,
          end,
        })
      : null;
    const body =
      guarded && selfDecoding
        ? decodeBody(guarded, encoding, { maxBytes: config.download.max_bytes, url: url.href })
        : guarded;
    if (!body) end();
    return {
      ok: true,
      response: res,
      body,
      release: end,
      async discard() {
        await body?.cancel().catch(() => {});
        end();
      },
    };
  }

  /** robots.txt of `origin`: gate + politeness (landing budget), up to 5 redirects, 500 KiB read. */
  async function fetchRobots(origin: string): Promise<RobotsFetch> {
    const r = await exchange(
      { url: `${origin}/robots.txt`, role: "landing" },
      { role: "landing", rateRole: "landing", checkRobots: false, maxRedirects: ROBOTS_REDIRECTS },
      now(),
      { accept: "text/plain, */*;q=0.5" },
    );
    if (!r.ok) {
      if (r.status !== undefined) return { status: r.status, body: "" };
      return { failure: r.reason, message: `robots.txt of ${origin}: ${r.message}` };
    }
    try {
      const bytes = await readAtMost(r.response.body, ROBOTS_MAX_BYTES);
      return { status: r.response.status, body: bytes };
    } catch (error) {
      return {
        failure: outcomeReason({ error }),
        message: `robots.txt of ${origin}: ${(error as Error).message}`,
      };
    } finally {
      r.response.release();
    }
  }

  function request(req: HttpRequest): Promise<HttpResult> {
    const startedAt = now();
    const hop: HopOptions = {
      role: req.role,
      rateRole: req.role,
      checkRobots: req.role !== "metadata",
      maxRedirects: net.max_redirects,
    };
    if (req.role !== "metadata") return slowDownRequest(req, hop);
    return metadataRequest(req, hop, startedAt);
  }

  /**
   * Landing pages and files: a 429 or 503 is back-pressure, not an answer. Its observation set the
   * host's cool-down (Retry-After, else the host backoff), so the next exchange's politeness wait
   * honours it for every process; the same request asks again up to `slowDownRetries` times. A wait
   * longer than the caller's ends it with the limiter's refusal (the job is parked or released).
   */
  async function slowDownRequest(req: HttpRequest, hop: HopOptions): Promise<HttpResult> {
    const allowed = req.slowDownRetries ?? config.download.retries;
    let slowDowns = 0;
    for (;;) {
      const r = await exchange(req, hop, now());
      if (r.ok) {
        if (slowDowns > 0) r.response.slowDowns = slowDowns;
        return r;
      }
      const { retryAfterMs: _, ...result } = r;
      const slowDown = r.status === 429 || r.status === 503;
      if (slowDown) slowDowns++;
      if (slowDowns > 0) result.slowDowns = slowDowns;
      if (!slowDown || slowDowns > allowed || req.signal?.aborted) return result;
      deps.onSlowDown?.({
        url: r.url,
        host: hostKey(r.url),
        status: r.status as number,
        retryAfterMs: r.retryAfterMs,
        retry: slowDowns,
        of: allowed,
      });
    }
  }

  /**
   * Metadata: cache first (a fresh hit spends no token), revalidate when stale, retry 429/5xx/network.
   * A POST is keyed by method, URL and body (hashed like every key); a stale one is asked again
   * rather than revalidated, since validators describe a resource, not a query's answer.
   */
  async function metadataRequest(req: HttpRequest, hop: HopOptions, startedAt: number): Promise<HttpResult> {
    const cache = req.cache === false ? undefined : deps.cache;
    const key = parseUrl(req.url);
    const href = key.ok ? key.url.href : req.url;
    const post = req.method === "POST";
    const cacheKey = post ? metadataCacheKey(href, "POST", req.body) : href;
    const cached = cache?.lookup(cacheKey, now());
    if (cached?.fresh) return { ok: true, response: fromCache(cached.entry, href) };
    const conditional: Record<string, string> = {};
    if (cached?.entry.etag && !post) conditional["if-none-match"] = cached.entry.etag;
    if (cached?.entry.lastModified && !post) conditional["if-modified-since"] = cached.entry.lastModified;
    const maxWaitMs = req.maxWaitMs ?? config.politeness.max_wait_s * 1000;
    for (let attempt = 0; ; attempt++) {
      const r = await exchange(req, hop, startedAt, conditional);
      if (r.ok) {
        const res = r.response;
        if (res.status === 304 && cache && cached) {
          await res.body?.cancel().catch(() => {});
          res.release();
          const refreshed = cache.refresh(cacheKey, res.headers, now());
          const entry = refreshed ?? cached.entry;
          // A revalidation did go out: it keeps its limiter wait and is not a cache hit.
          return {
            ok: true,
            response: {
              ...fromCache(entry, res.url),
              redirects: res.redirects,
              rateWaitMs: res.rateWaitMs,
              fromCache: false,
            },
          };
        }
        if (cache && res.status === 200 && res.body) {
          res.body = teeIntoCache(res.body, cache.maxBodyBytes, (bytes) =>
            cache.store(cacheKey, res.status, res.headers, bytes, now()),
          );
        }
        return r;
      }
      // A back-pressure status (r.status set, reason rate_limited) is retried like a 429.
      const retryable =
        isRetryable({ status: r.status, reason: r.reason }) ||
        (r.status !== undefined && r.reason === "rate_limited");
      if (attempt >= net.metadata_retries || !retryable) return r;
      if (req.signal?.aborted) return r;
      const delay = Math.max(r.retryAfterMs ?? 0, backoffMs(attempt, RETRY_BASE_MS, RETRY_CAP_MS, random));
      const elapsed = now() - startedAt;
      if (elapsed + delay > maxWaitMs || elapsed + delay > net.total_timeout_s * 1000) return r;
      if (!(await sleep(delay, req.signal)))
        return fail("cancelled", `request for ${req.url} was cancelled`, req.url);
    }
  }

  return { request };
}

/** The metadata cache key of a request: the URL for a GET; method, URL and body for a POST. */
export function metadataCacheKey(href: string, method: "GET" | "POST", body = ""): string {
  return method === "GET" ? href : `${method} ${href}\n${body}`;
}

function fromCache(entry: { status: number; headers: Headers; body: Uint8Array }, url: string): HttpResponse {
  const bytes = entry.body;
  return {
    status: entry.status,
    headers: new Headers(entry.headers),
    url,
    redirects: [url],
    body: new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes);
        c.close();
      },
    }),
    rateWaitMs: 0,
    fromCache: true,
    release() {},
  };
}

interface GuardOptions {
  ac: AbortController;
  idleMs: number;
  maxBytes: number;
  expected?: number;
  url: URL;
  /** Clears the timers and releases the politeness slots; idempotent. */
  end(): void;
}

/**
 * The caller's view of a body: pulls one chunk per read (constant memory), aborts when the server
 * stays silent longer than `idleMs` or the body exceeds `maxBytes`, reports a body shorter than its
 * Content-Length as `truncated`, and releases the slots however it ends (done, error or cancel).
 */
function guardBody(source: ReadableStream<Uint8Array>, o: GuardOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let received = 0;
  const failWith = (c: ReadableStreamDefaultController<Uint8Array>, e: HttpFailure) => {
    o.ac.abort(e);
    reader.cancel(e).catch(() => {});
    o.end();
    c.error(e);
  };
  // One idle timer per body, not one per chunk: it is armed when a read starts waiting and, when it
  // fires, either aborts (the read has waited idleMs) or re-arms for the rest of that wait.
  let waitingSince: number | null = null;
  let idle: ReturnType<typeof setTimeout> | null = null;
  const onIdle = () => {
    idle = null;
    if (waitingSince === null) return;
    const waited = performance.now() - waitingSince;
    if (waited >= o.idleMs)
      o.ac.abort(new HttpFailure("timeout", `no data for ${o.idleMs} ms: ${o.url.href}`));
    else idle = unrefTimer(setTimeout(onIdle, o.idleMs - waited));
  };
  const stopIdle = () => {
    waitingSince = null;
    if (idle !== null) clearTimeout(idle);
    idle = null;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        waitingSince = performance.now();
        idle ??= unrefTimer(setTimeout(onIdle, o.idleMs));
        let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          stopIdle();
          const cause = o.ac.signal.aborted ? o.ac.signal.reason : error;
          let reason = outcomeReason({ error: cause });
          // A connection lost before the declared length is a short body, whatever the socket said.
          if (reason === "conn_error" && o.expected !== undefined && received < o.expected)
            reason = "truncated";
          const message =
            reason === "truncated"
              ? `body of ${o.url.href} ended after ${received} of ${o.expected} bytes`
              : describe(cause, o.ac.signal, o.url);
          o.end();
          c.error(
            cause instanceof HttpFailure && cause.reason === reason
              ? cause
              : new HttpFailure(reason, message),
          );
          return;
        }
        // The timer stays armed between chunks (cheap); it only acts while a read waits.
        waitingSince = null;
        if (chunk.done) {
          stopIdle();
          o.end();
          if (o.expected !== undefined && received < o.expected) {
            c.error(
              new HttpFailure(
                "truncated",
                `body of ${o.url.href} ended after ${received} of ${o.expected} bytes`,
              ),
            );
          } else {
            c.close();
          }
          return;
        }
        received += chunk.value.length;
        if (received > o.maxBytes) {
          stopIdle();
          failWith(c, new HttpFailure("too_large", `body of ${o.url.href} exceeds ${o.maxBytes} bytes`));
          return;
        }
        c.enqueue(chunk.value);
      },
      cancel(reason) {
        stopIdle();
        o.ac.abort(reason ?? new HttpFailure("cancelled", "body cancelled"));
        reader.cancel(reason).catch(() => {});
        o.end();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A timer that does not keep the process alive by itself (a pending read does). */
function unrefTimer(t: ReturnType<typeof setTimeout>): ReturnType<typeof setTimeout> {
  (t as { unref?: () => void }).unref?.();
  return t;
}

/** Pass a metadata body through while keeping a copy (up to `cap` bytes) to store when it completes. */
function teeIntoCache(
  source: ReadableStream<Uint8Array>,
  cap: number,
  store: (bytes: Uint8Array) => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let parts: Uint8Array[] | undefined = [];
  let size = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          c.error(error);
          return;
        }
        if (chunk.done) {
          if (parts) store(concat(parts, size));
          c.close();
          return;
        }
        size += chunk.value.length;
        if (parts && size <= cap) parts.push(chunk.value);
        else parts = undefined;
        c.enqueue(chunk.value);
      },
      cancel(reason) {
        parts = undefined;
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function readAtMost(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = value.subarray(0, Math.max(0, max - size));
    parts.push(take);
    size += take.length;
    if (size >= max) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return concat(parts, size);
}

function failureKind(reason: Reason): "timeout" | "conn_error" | "tls_error" | undefined {
  return reason === "timeout" || reason === "conn_error" || reason === "tls_error" ? reason : undefined;
}

function describe(error: unknown, signal: AbortSignal, url: URL): string {
  if (signal.aborted && signal.reason instanceof HttpFailure) return signal.reason.message;
  const e = error as { code?: string; message?: string };
  return `${url.href}: ${e?.code ? `${e.code} ` : ""}${e?.message ?? String(error)}`;
}

/** Wait `ms`, or less when `signal` aborts; answers whether the wait completed. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
