// The HTTP rules of one download round, pure: which conditions a request carries (Range/If-Range to
// continue a partial body, If-None-Match/If-Modified-Since against a prior copy) and what the answer
// means (200/206/304/416, Content-Range, Content-Encoding, announced size). No I/O: candidate.ts acts.
import type { Reason } from "../core/reasons.ts";
import { parseContentRange, parseLength } from "./stream.ts";
import type { PartialInfo } from "./temp.ts";
import type { PriorCopy } from "./types.ts";

/** What this round asked for. */
export interface RoundRequest {
  /** The candidate URL (named in messages). */
  url: string;
  /** Bytes of the partial body asked to be continued (`Range: bytes=N-` sent); 0 for none. */
  resumeFrom: number;
  /** The slot's sidecar: validators and length of the partial body, when it has one. */
  partial: PartialInfo | null;
  /** `If-None-Match` / `If-Modified-Since` were sent (there is a prior copy to fall back on). */
  conditional: boolean;
  /** `download.max_bytes`. */
  maxBytes: number;
}

/** The answer as the HTTP client gave it: refused (its reason stands) or a 2xx/304 with headers. */
export type RoundAnswer = { ok: false; status?: number } | { ok: true; status: number; headers: Headers };

export interface Refusal {
  reason: Reason;
  message: string;
}

export type Interpretation =
  /** Read the body into the temp file from byte `start` (0: from scratch, truncating the partial). */
  | { next: "body"; start: number; total: number | undefined; encoded: boolean }
  /**
   * Drop the partial body (and the answer's body) and ask again without Range. `failure` is what the
   * candidate ends with should no later round do better; none for a 416.
   */
  | { next: "start_over"; failure?: Refusal }
  /** 304 to a conditional request: the prior copy stands if it is still intact. */
  | { next: "check_prior" }
  /** The candidate ends here with this reason (the answer's body is dropped). */
  | { next: "refuse"; failure: Refusal }
  /** The client refused the request: its reason and message stand. */
  | { next: "fail" };

/** The request headers of a round. */
export function roundHeaders(o: {
  resumeFrom: number;
  partial: PartialInfo | null;
  prior: PriorCopy | undefined;
  conditional: boolean;
}): Record<string, string> {
  const headers: Record<string, string> = {};
  if (o.resumeFrom > 0 && o.partial) {
    headers.Range = `bytes=${o.resumeFrom}-`;
    headers["If-Range"] = resumeValidator(o.partial) as string;
  }
  if (o.conditional && o.prior) {
    if (o.prior.etag) headers["If-None-Match"] = o.prior.etag;
    if (o.prior.lastModified) headers["If-Modified-Since"] = o.prior.lastModified;
  }
  return headers;
}

/** What a refused request means: only a 416 to a Range request is not the end of the candidate. */
export type RefusedInterpretation = Extract<Interpretation, { next: "start_over" | "fail" }>;
/** What a 2xx/304 answer means. */
export type AnsweredInterpretation = Exclude<Interpretation, { next: "fail" }>;

export function interpretResponse(
  req: RoundRequest,
  ans: Extract<RoundAnswer, { ok: false }>,
): RefusedInterpretation;
export function interpretResponse(
  req: RoundRequest,
  ans: Extract<RoundAnswer, { ok: true }>,
): AnsweredInterpretation;
export function interpretResponse(req: RoundRequest, ans: RoundAnswer): Interpretation;
export function interpretResponse(req: RoundRequest, ans: RoundAnswer): Interpretation {
  if (!ans.ok) {
    // The partial no longer fits what the server has: start over without it.
    if (ans.status === 416 && req.resumeFrom > 0) return { next: "start_over" };
    return { next: "fail" };
  }
  if (ans.status === 304) {
    if (req.conditional) return { next: "check_prior" };
    return refuse("http_304", `${req.url}: 304 Not Modified to an unconditional request`);
  }
  const h = ans.headers;
  const encoded = isEncoded(h);
  // The bytes on the wire: the file's length, or the compressed length when the server encoded it
  // anyway (the body is then decoded as it is read, decoded bytes counting against max_bytes).
  const announced = parseLength(h.get("content-length"));
  let start = 0;
  let total = encoded ? undefined : announced;
  if (ans.status === 206) {
    const range = parseContentRange(h.get("content-range"));
    const info = req.partial;
    const etag = h.get("etag");
    const sameEntity = !info?.etag || !etag || etag === info.etag;
    if (req.resumeFrom > 0 && range && range.start === req.resumeFrom && !encoded && sameEntity) {
      start = req.resumeFrom;
      total = range.total ?? info?.total;
    } else if (range && range.start === 0 && range.total !== undefined && range.end + 1 === range.total) {
      total = range.total; // the whole file as one range
    } else {
      return {
        next: "start_over",
        failure: {
          reason: "truncated",
          message: `${req.url}: 206 with Content-Range ${range ? "" : "missing or "}not matching the request`,
        },
      };
    }
  }
  const sized = total ?? announced;
  if (sized !== undefined && sized > req.maxBytes) {
    return refuse(
      "too_large",
      `${req.url}: ${sized} ${encoded ? "encoded " : ""}bytes announced, over download.max_bytes (${req.maxBytes})`,
    );
  }
  return { next: "body", start, total, encoded };
}

/**
 * The sidecar for a fresh body, when the answer lets a later attempt continue it: not for an encoded
 * body (its ranges do not describe the file), nor without a validator If-Range could carry.
 */
export function resumableInfo(
  url: string,
  headers: Headers,
  total: number | undefined,
  encoded: boolean,
): PartialInfo | null {
  if (encoded) return null;
  const info: PartialInfo = {
    url,
    etag: headers.get("etag") ?? undefined,
    lastModified: headers.get("last-modified") ?? undefined,
    total,
  };
  return resumeValidator(info) ? info : null;
}

/** The validator If-Range may carry: a strong ETag, else Last-Modified. */
export function resumeValidator(info: PartialInfo): string | undefined {
  if (info.etag && !info.etag.startsWith("W/")) return info.etag;
  return info.lastModified;
}

/** A body transformed by Content-Encoding has a length and ranges that do not describe the file. */
export function isEncoded(headers: Headers): boolean {
  const ce = headers.get("content-encoding");
  return ce !== null && ce.trim() !== "" && ce.trim().toLowerCase() !== "identity";
}

function refuse(reason: Reason, message: string): Interpretation {
  return { next: "refuse", failure: { reason, message } };
}
