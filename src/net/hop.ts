// One request with its redirects, each hop in the same order: URL gate → robots.txt (landing and
// artifact) → politeness permit → transport → what the host answered fed back to politeness →
// follow a redirect or answer. The wrappers (metadata-request.ts, slow-down.ts) ask it again.
import type { Reason } from "../core/reasons.ts";
import { hostKey, originOf, parseUrl } from "../core/url.ts";
import type { UrlGate } from "./gate.ts";
import { fail, outcomeReason } from "./outcome.ts";
import type { PolitenessGate } from "./politeness-port.ts";
import { parseRetryAfter } from "./retry.ts";
import type { RobotsCache } from "./robots.ts";
import type { Send } from "./transport.ts";
import type { HttpRequest, HttpResponse, HttpResult, Role } from "./types.ts";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface HopOptions {
  role: Role;
  /** Role whose rate token is spent (robots.txt is fetched on the landing budget). */
  rateRole: Role;
  checkRobots: boolean;
  maxRedirects: number;
  /** Longest politeness wait of the whole request, its redirects included. */
  maxWaitMs: number;
}

/** A failure with the host's announced wait kept for the wrappers (Retry-After, capped). */
export type Exchanged = HttpResult & { retryAfterMs?: number };

/**
 * One request with its redirects. Answers the final response with the slot still held (released
 * when the body ends) or a failure. `extraHeaders` are the client's own (conditional requests).
 */
export type Exchange = (
  req: HttpRequest,
  hop: HopOptions,
  startedAt: number,
  extraHeaders?: Record<string, string>,
) => Promise<Exchanged>;

export interface ExchangeDeps {
  gate: UrlGate;
  /** Absent when robots.txt is not honoured (`politeness.robots: false`). */
  robots?: RobotsCache;
  politeness: PolitenessGate;
  send: Send;
  retryAfterCapMs: number;
  now: () => number;
}

export function createExchange(d: ExchangeDeps): Exchange {
  const { gate, politeness, send, now } = d;
  return async function exchange(req, hop, startedAt, extraHeaders = {}) {
    const maxWaitMs = hop.maxWaitMs;
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
      if (hop.checkRobots && d.robots) {
        const r = await d.robots.check(url, originOf(url));
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
      const sent = await send({
        url,
        address: verdict.address,
        role: hop.role,
        method,
        body,
        headers: req.headers,
        extraHeaders,
        signal: req.signal,
        startedAt,
        releasePermit: permit.release,
      });
      if (!sent.ok) {
        const failure = failureKind(sent.reason);
        if (failure) politeness.observe(host, { failure, role: hop.role });
        return { ...sent, url: url.href };
      }
      const res = sent.response;
      const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), now(), d.retryAfterCapMs);
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
  };
}

/** The network failures the breaker counts. */
function failureKind(reason: Reason): "timeout" | "conn_error" | "tls_error" | undefined {
  return reason === "timeout" || reason === "conn_error" || reason === "tls_error" ? reason : undefined;
}
