// The transport of the client: one request, sent to the address the URL gate vetted (the host named
// in Host and SNI), with the connect/header and total timeouts armed; the body comes back behind the
// body guard (idle timeout, size cap) and, for files and pages, the bounded content decoding.

import { guardBody } from "./body-guard.ts";
import { decodeBody } from "./content-coding.ts";
import { urlHostOf } from "./ip.ts";
import { describeFailure, type Failure, fail, HttpFailure, outcomeReason } from "./outcome.ts";
import type { Role } from "./types.ts";

/** The transport: the platform `fetch` (tests may wrap it to prove where packets go). */
export type Transport = (url: string, init: TransportInit) => Promise<Response>;

/** `decompress: false` (Bun): the body arrives as sent, Content-Encoding and all. */
export type TransportInit = RequestInit & { tls?: { serverName?: string }; decompress?: boolean };

const ROLE_ACCEPT: Record<Role, string> = {
  artifact: "application/pdf, */*;q=0.1",
  metadata: "application/json",
  landing: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
};

export interface SenderOptions {
  transport: Transport;
  userAgent: string;
  connectTimeoutMs: number;
  /** The whole request, redirects included, counted from its `startedAt`. */
  totalTimeoutMs: number;
  idleTimeoutMs: number;
  maxBytes: number;
  now: () => number;
}

/** One request of a hop. */
export interface Outgoing {
  url: URL;
  /** The address the gate vetted for `url`'s host. */
  address: string;
  role: Role;
  method: "GET" | "POST";
  body?: string;
  /** The caller's headers, then the client's own for this request (conditional, robots Accept). */
  headers?: Record<string, string>;
  extraHeaders: Record<string, string>;
  signal?: AbortSignal;
  startedAt: number;
  /** Releases the politeness permit; called once, when the request's network work ends. */
  releasePermit(): void;
}

export type Sent =
  | {
      ok: true;
      response: Response;
      body: ReadableStream<Uint8Array> | null;
      release(): void;
      discard(): Promise<void>;
    }
  | Failure;

export type Send = (out: Outgoing) => Promise<Sent>;

export function createSender(o: SenderOptions): Send {
  /** One request to the vetted address with the timeouts armed; the body keeps them until it ends. */
  return async function send(out: Outgoing): Promise<Sent> {
    const { url, signal } = out;
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
      signal?.removeEventListener("abort", onCallerAbort);
      out.releasePermit();
    };
    const timeout = (ms: number, what: string) =>
      setTimeout(() => ac.abort(new HttpFailure("timeout", `${what} after ${ms} ms: ${url.href}`)), ms);
    signal?.addEventListener("abort", onCallerAbort, { once: true });
    if (signal?.aborted) onCallerAbort();
    const totalMs = Math.max(0, o.totalTimeoutMs - (o.now() - out.startedAt));
    timers.push(timeout(totalMs, "no complete answer"));
    const headerTimer = timeout(o.connectTimeoutMs, "no response headers");
    timers.push(headerTimer);

    // Files and pages are asked for as sent and never decoded by the runtime, which would inflate a
    // compressed body without a bound: a server that compresses anyway is decoded by decodeBody,
    // which counts the decoded bytes. Metadata (small JSON answers) keeps the runtime's decoding.
    const selfDecoding = out.role !== "metadata";
    const headers: Record<string, string> = {
      "user-agent": o.userAgent,
      accept: ROLE_ACCEPT[out.role],
      ...(selfDecoding ? { "accept-encoding": "identity" } : {}),
      ...out.headers,
      ...out.extraHeaders,
    };
    // Connect to the address the gate vetted, naming the host in Host (and SNI for https).
    const literal = out.address === url.hostname || url.hostname.startsWith("[");
    let target = url.href;
    const init: TransportInit = {
      method: out.method,
      redirect: "manual",
      signal: ac.signal,
      headers,
      ...(selfDecoding ? { decompress: false } : {}),
    };
    if (out.body !== undefined) init.body = out.body;
    if (!literal) {
      const pinned = new URL(url.href);
      pinned.hostname = urlHostOf(out.address);
      target = pinned.href;
      headers.host = url.host;
      if (url.protocol === "https:") init.tls = { serverName: url.hostname };
    }
    let res: Response;
    try {
      res = await o.transport(target, init);
    } catch (error) {
      end();
      const reason = outcomeReason({ error: ac.signal.aborted ? ac.signal.reason : error });
      return fail(reason, describeFailure(error, ac.signal, url), url.href);
    }
    clearTimeout(headerTimer);
    // Without the runtime's decoding, Content-Length counts the bytes on the wire, encoded or not.
    const encoding = res.headers.get("content-encoding");
    const declared = encoding && !selfDecoding ? null : res.headers.get("content-length");
    const guarded = res.body
      ? guardBody(res.body, {
          ac,
          idleMs: o.idleTimeoutMs,
          maxBytes: o.maxBytes,
          expected: declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined,
          url,
          end,
        })
      : null;
    const body =
      guarded && selfDecoding
        ? decodeBody(guarded, encoding, { maxBytes: o.maxBytes, url: url.href })
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
  };
}
