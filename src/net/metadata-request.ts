// The metadata wrapper: API answers come from the metadata cache when fresh (no token spent), are
// revalidated when stale, and 429/5xx/network failures are retried with backoff within the
// caller's wait; a 200 body is stored in the cache as the caller reads it.
import { parseUrl } from "../core/url.ts";
import { detach } from "../store/maybe.ts";
import { concatBytes } from "./bytes.ts";
import type { MetadataCache } from "./cache.ts";
import type { Exchange, HopOptions } from "./hop.ts";
import { fail, isRetryable } from "./outcome.ts";
import { backoffMs } from "./retry.ts";
import type { HttpRequest, HttpResponse, HttpResult } from "./types.ts";

const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 30_000;

export interface MetadataOptions {
  /** Without it metadata is not cached. */
  cache?: MetadataCache;
  /** Retries after the first request (`network.metadata_retries`). */
  retries: number;
  /** No retry is waited for past the request's total timeout. */
  totalTimeoutMs: number;
  now: () => number;
  random: () => number;
}

/**
 * A POST is keyed by method, URL and body (hashed like every key); a stale one is asked again
 * rather than revalidated, since validators describe a resource, not a query's answer.
 */
export function withMetadataCacheAndRetry(
  exchange: Exchange,
  o: MetadataOptions,
): (req: HttpRequest, hop: HopOptions, startedAt: number) => Promise<HttpResult> {
  const { now } = o;
  return async (req, hop, startedAt) => {
    const cache = req.cache === false ? undefined : o.cache;
    const key = parseUrl(req.url);
    const href = key.ok ? key.url.href : req.url;
    const post = req.method === "POST";
    const cacheKey = post ? metadataCacheKey(href, "POST", req.body) : href;
    const cached = await cache?.lookup(cacheKey, now());
    if (cached?.fresh) return { ok: true, response: fromCache(cached.entry, href) };
    const conditional: Record<string, string> = {};
    if (cached?.entry.etag && !post) conditional["if-none-match"] = cached.entry.etag;
    if (cached?.entry.lastModified && !post) conditional["if-modified-since"] = cached.entry.lastModified;
    for (let attempt = 0; ; attempt++) {
      const r = await exchange(req, hop, startedAt, conditional);
      if (r.ok) {
        const res = r.response;
        if (res.status === 304 && cache && cached) {
          await res.body?.cancel().catch(() => {});
          res.release();
          const refreshed = await cache.refresh(cacheKey, res.headers, now());
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
          // Stored in the background: a cache write that fails only costs a later request.
          res.body = teeIntoCache(res.body, cache.maxBodyBytes, (bytes) =>
            detach(cache.store(cacheKey, res.status, res.headers, bytes, now()), () => {}),
          );
        }
        return r;
      }
      // A back-pressure status (r.status set, reason rate_limited) is retried like a 429.
      const retryable =
        isRetryable({ status: r.status, reason: r.reason }) ||
        (r.status !== undefined && r.reason === "rate_limited");
      if (attempt >= o.retries || !retryable) return r;
      if (req.signal?.aborted) return r;
      const delay = Math.max(r.retryAfterMs ?? 0, backoffMs(attempt, RETRY_BASE_MS, RETRY_CAP_MS, o.random));
      const elapsed = now() - startedAt;
      if (elapsed + delay > hop.maxWaitMs || elapsed + delay > o.totalTimeoutMs) return r;
      if (!(await sleep(delay, req.signal)))
        return fail("cancelled", `request for ${req.url} was cancelled`, req.url);
    }
  };
}

/** The metadata cache key of a request: the URL for a GET; method, URL and body for a POST. */
function metadataCacheKey(href: string, method: "GET" | "POST", body = ""): string {
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
          if (parts) store(concatBytes(parts, size));
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
