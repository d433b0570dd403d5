// The shapes the download pipeline exchanges with its callers: what is known about a URL from an
// earlier download (for conditional requests), the stored file it produces, and the result of one
// candidate, a discriminated union carrying a stable reason (src/core/reasons.ts).
import type { Reason } from "../core/reasons.ts";

import type { StoredKind } from "../library/layout.ts";

export type { StoredKind } from "../library/layout.ts";

/** What an earlier download of the same canonical URL left behind (from the outcomes table). */
export interface PriorCopy {
  /** Absolute path of the stored file (content-addressed). */
  path: string;
  bytes: number;
  sha256: string;
  etag?: string;
  lastModified?: string;
}

export interface Timings {
  /** Waiting on politeness limiters before the request went out. */
  rateWaitMs: number;
  /** From the start of the attempt to the response headers (rate wait included). */
  headersMs: number;
  /** Reading the body to disk. */
  bodyMs: number;
  /** The whole attempt, finalize included. */
  totalMs: number;
}

/** A file in the library, as the caller records it with the ack. */
export interface StoredFile {
  sha256: string;
  bytes: number;
  /** Content type established from the bytes (application/pdf, application/xml, text/html). */
  contentType: string;
  /** Content type the server claimed, when it sent one. */
  servedContentType?: string;
  kind: StoredKind;
  /** Absolute path in the content-addressed store: <out>/<kind>/<sha[0:2]>/<sha[2:4]>/<sha>.<ext>. */
  path: string;
  /** Absolute path of the friendly hard link <out>/by-id/<h[0:2]>/<h[2:4]>/<safe name>.<ext>. */
  byIdPath: string;
  /** The candidate URL as requested and the URL the bytes finally came from. */
  url: string;
  finalUrl: string;
  etag?: string;
  lastModified?: string;
}

export type DownloadSuccess = {
  ok: true;
  /** `ok`: newly stored; `duplicate_content`: identical bytes were already stored; `not_modified`: 304. */
  reason: "ok" | "duplicate_content" | "not_modified";
  file: StoredFile;
  /** HTTP status of the final response; 0 when no request was made (`reused`). */
  status: number;
  /** The library already held this URL's file from another artifact's download: nothing was sent. */
  reused?: boolean;
  /** Bytes already on disk from an interrupted earlier attempt that this one continued (0 if none). */
  resumedFrom: number;
  timings: Timings;
};

export type DownloadFailure = {
  ok: false;
  reason: Reason;
  /** One line naming the URL and what went wrong. */
  message: string;
  url: string;
  finalUrl?: string;
  status?: number;
  /** When the host asked us to come back (Retry-After, cooldown), epoch ms. */
  retryAt?: number;
  /** Body bytes received before the attempt ended. */
  bytes: number;
  /** An HTML landing page met instead of a file (reason `html_only`): its text, bounded, for link extraction. */
  landing?: { url: string; html: string };
  /** 429/503 answers met (see HttpResult). */
  slowDowns?: number;
  /** Absent when the try ended by this machine's error before anything was measured (a full disk). */
  timings?: Timings;
};

export type DownloadResult = DownloadSuccess | DownloadFailure;
