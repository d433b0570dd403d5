// The one place where what happened to a request (a status, a refusal, an error thrown by the
// transport or the body stream) becomes a stable reason of SPEC 6 (src/core/reasons.ts) and the
// failure value the client answers.
import type { Reason } from "../core/reasons.ts";
import type { HttpResult } from "./types.ts";

/** The failure answer of the client. */
export type Failure = Extract<HttpResult, { ok: false }>;

export const fail = (
  reason: Reason,
  message: string,
  url: string,
  extra: Partial<Failure> = {},
): Failure => ({
  ok: false,
  reason,
  message,
  url,
  ...extra,
});

/** An error that already knows its reason (timeouts, truncation, size cap, refusals). */
export class HttpFailure extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
  ) {
    super(message);
    this.name = "HttpFailure";
  }
}

const CONN_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
  "UND_ERR_SOCKET",
]);

/** The reason for a response status (2xx/304 are `ok`). */
function statusReason(status: number): Reason {
  if ((status >= 200 && status < 300) || status === 304) return "ok";
  if (status === 404 || status === 410) return "not_found";
  if (status === 401 || status === 403) return "forbidden";
  if (status === 429) return "rate_limited";
  return `http_${status}`;
}

/** The reason for an error thrown while connecting or reading a body. */
function errorReason(error: unknown): Reason {
  if (error instanceof HttpFailure) return error.reason;
  const e = error as { name?: string; code?: string; message?: string } | undefined;
  if (e?.name === "TimeoutError") return "timeout";
  if (e?.name === "AbortError") return "cancelled";
  const code = e?.code ?? "";
  if (CONN_CODES.has(code)) return "conn_error";
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HANDSHAKE/i.test(code)) return "tls_error";
  if (/certificate|TLS|SSL|handshake/i.test(e?.message ?? "")) return "tls_error";
  return "conn_error";
}

/** Map an outcome to its stable reason: a status when a response arrived, else the error. */
export function outcomeReason(o: { status?: number; error?: unknown }): Reason {
  return o.status !== undefined ? statusReason(o.status) : errorReason(o.error);
}

/** Statuses and failures worth retrying a metadata request for. */
export function isRetryable(o: { status?: number; reason?: Reason }): boolean {
  if (o.status !== undefined) return [429, 500, 502, 503, 504].includes(o.status);
  return o.reason === "timeout" || o.reason === "conn_error";
}

/** The message of a failed connection or body read: the client's own abort reason, else the error. */
export function describeFailure(error: unknown, signal: AbortSignal, url: URL): string {
  if (signal.aborted && signal.reason instanceof HttpFailure) return signal.reason.message;
  const e = error as { code?: string; message?: string };
  return `${url.href}: ${e?.code ? `${e.code} ` : ""}${e?.message ?? String(error)}`;
}
