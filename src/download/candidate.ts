// Downloading one candidate URL end to end: conditional GET (or Range continuation of an interrupted
// attempt) through the HTTP client, streaming to a temp file while hashing, classification by bytes,
// and publication into the content-addressed library. Returns a result with a stable reason; the
// caller records it with the job's ack. A temp file never outlives a handled failure.
import * as fs from "node:fs";
import type { Config } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";
import { type Library, localLibrary, type Published } from "../library/library.ts";
import type { HttpClient, HttpResponse } from "../net/types.ts";
import { classifyPayload } from "./classify.ts";
import { type HashingThreads, OFFLOAD_MIN_BYTES, privateThreadSink } from "./offload.ts";
import {
  abortReason,
  forEachChunk,
  parseContentRange,
  parseLength,
  receiveBody,
  Sniffer,
  ThreadSink,
} from "./stream.ts";
import { type DiskSyncer, poolSyncer } from "./syncer.ts";
import {
  claimTempSlot,
  describePartial,
  fileSize,
  type PartialInfo,
  releaseTempSlot,
  slotInUse,
  type TempSlot,
  unlinkQuiet,
} from "./temp.ts";
import type { DownloadFailure, DownloadResult, PriorCopy, StoredKind, Timings } from "./types.ts";

export interface DownloadDeps {
  http: HttpClient;
  /** The library root (config out_dir). */
  outDir: string;
  /**
   * Where files are published (src/library): without it, the local directory `outDir`. An object
   * store library also says where temp files go (`state_dir`).
   */
  library?: Library;
  download: Config["download"];
  /** Clock for timings, epoch ms. */
  now: () => number;
  /**
   * Where disk flushes run (syncer.ts). Give one long-lived syncer to all downloads of a process;
   * without it flushes share the runtime's file thread pool with every write.
   */
  syncer?: DiskSyncer;
  /** Threads that hash and write bodies (offload.ts); like the syncer, one per process. */
  hashers?: HashingThreads;
}

export interface CandidateRequest {
  /** Canonical URL of the candidate. */
  url: string;
  /** The artifact the file belongs to (names its by-id link). */
  artifactId: string;
  resolver?: string;
  /** What an earlier download of this URL stored: sent as If-None-Match / If-Modified-Since. */
  prior?: PriorCopy;
  /** On 304, re-hash the stored copy instead of trusting its size. */
  verifyPrior?: boolean;
  /** Aborting it ends the download with its reason (`lease_lost`, else `cancelled`). */
  signal?: AbortSignal;
  /** 429/503 answers that may be asked again (what is left of `download.retries` for this candidate). */
  slowDownRetries?: number;
}

/** Attempts per candidate: a 416, a mismatched 206 or a vanished stored copy each cost one more request. */
const MAX_ROUNDS = 3;

export async function downloadCandidate(deps: DownloadDeps, req: CandidateRequest): Promise<DownloadResult> {
  const t0 = deps.now();
  const timings: Timings = { rateWaitMs: 0, headersMs: 0, bodyMs: 0, totalMs: 0 };
  const syncer = deps.syncer ?? poolSyncer;
  const library = deps.library ?? localLibrary(deps.outDir, syncer);
  const tempBase = library.tempBase;
  // With no sidecar for this URL there is nothing to continue: the first request need not wait for
  // the claim (its outcome only decides which temp file the body goes to).
  const claiming = claimTempSlot(tempBase, req.url);
  claiming.catch(() => {}); // awaited below
  let claimed: TempSlot | undefined = slotInUse(tempBase, req.url) ? await claiming : undefined;
  let stored = false;
  let released: Promise<void> | undefined;
  const release = (slot: TempSlot, published: boolean) => {
    released ??= releaseTempSlot(slot, published);
    return released;
  };
  try {
    let allowResume = true;
    let allowConditional = req.prior !== undefined;
    let lastFailure: DownloadFailure | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const resumeFrom = allowResume && claimed ? await resumableBytes(claimed, req.url) : 0;
      const headers: Record<string, string> = {};
      if (resumeFrom > 0) {
        const info = (claimed as TempSlot).info as PartialInfo;
        headers.Range = `bytes=${resumeFrom}-`;
        headers["If-Range"] = ifRangeValidator(info) as string;
      }
      if (allowConditional && req.prior) {
        if (req.prior.etag) headers["If-None-Match"] = req.prior.etag;
        if (req.prior.lastModified) headers["If-Modified-Since"] = req.prior.lastModified;
      }
      // A fresh body's file is opened (and truncated) while the request is under way: one wait
      // fewer per file. Nothing in it could be continued (no resumable prefix), whatever comes back.
      let early: Promise<number> | undefined =
        resumeFrom > 0
          ? undefined
          : (claimed ? Promise.resolve(claimed) : claiming).then((s) => openFd(s.part, "w"));
      early?.catch(() => {}); // taken below, or closed when this round ends without a body
      try {
        const res = await deps.http.request({
          url: req.url,
          role: "artifact",
          resolver: req.resolver,
          headers,
          signal: req.signal,
          slowDownRetries: req.slowDownRetries,
        });
        let slot: TempSlot;
        try {
          slot = claimed ??= await claiming;
        } catch (err) {
          if (res.ok) await dropBody(res.response);
          throw err;
        }
        timings.headersMs = deps.now() - t0;
        if (!res.ok) {
          if (res.status === 416 && resumeFrom > 0) {
            // The partial no longer fits what the server has: start over without it.
            await discardPartial(slot);
            allowResume = false;
            continue;
          }
          const reason: Reason = req.signal?.aborted ? abortReason(req.signal) : res.reason;
          return failure(reason, res.message, {
            status: res.status,
            retryAt: res.retryAt,
            finalUrl: res.url,
            slowDowns: res.slowDowns,
          });
        }
        const r = res.response;
        timings.rateWaitMs = r.rateWaitMs;

        if (r.status === 304) {
          await dropBody(r);
          if (!allowConditional || !req.prior) {
            return failure("http_304", `${req.url}: 304 Not Modified to an unconditional request`, {
              status: 304,
              finalUrl: r.url,
            });
          }
          if (await priorIsIntact(library, req.prior, req.verifyPrior === true)) {
            return await notModified(r, req.prior);
          }
          // The stored copy is gone or damaged: ask again for the whole file.
          allowConditional = false;
          continue;
        }

        const encoded = isEncoded(r.headers);
        // The bytes on the wire: the file's length, or the compressed length when the server encoded
        // it anyway (the HTTP client then decodes it, counting decoded bytes against max_bytes).
        const announced = parseLength(r.headers.get("content-length"));
        let start = 0;
        let total = encoded ? undefined : announced;
        if (r.status === 206) {
          const range = parseContentRange(r.headers.get("content-range"));
          const info = slot.info;
          const sameEntity = !info?.etag || !r.headers.get("etag") || r.headers.get("etag") === info.etag;
          if (resumeFrom > 0 && range && range.start === resumeFrom && !encoded && sameEntity) {
            start = resumeFrom;
            total = range.total ?? info?.total;
          } else if (
            range &&
            range.start === 0 &&
            range.total !== undefined &&
            range.end + 1 === range.total
          ) {
            total = range.total;
          } else {
            await dropBody(r);
            await discardPartial(slot);
            allowResume = false;
            lastFailure = failure(
              "truncated",
              `${req.url}: 206 with Content-Range ${range ? "" : "missing or "}not matching the request`,
              {
                status: 206,
                finalUrl: r.url,
              },
            );
            continue;
          }
        }
        const sized = total ?? announced;
        if (sized !== undefined && sized > deps.download.max_bytes) {
          await dropBody(r);
          return failure(
            "too_large",
            `${req.url}: ${sized} ${encoded ? "encoded " : ""}bytes announced, over download.max_bytes (${deps.download.max_bytes})`,
            {
              status: r.status,
              finalUrl: r.url,
            },
          );
        }

        const hasher = new Bun.CryptoHasher("sha256");
        const sniffer = new Sniffer();
        if (start > 0) {
          // The prefix on disk is hashed again: the digest must cover the whole file, not a trusted note.
          await forEachChunk(Bun.file(slot.part).slice(0, start).stream(), (chunk) => {
            hasher.update(chunk);
            sniffer.push(chunk);
          });
        }
        let fd: number;
        if (start === 0 && early) {
          const opened = early;
          early = undefined;
          fd = await opened;
        } else fd = await openFd(slot.part, start > 0 ? "a" : "w");
        const tBody = deps.now();
        // A body from its first byte is hashed and written off the main thread (offload.ts): on the
        // shared hashing threads when given, else on a thread of its own when it is large.
        const sink =
          start === 0 && deps.hashers
            ? deps.hashers.open(fd)
            : start === 0 && total !== undefined && total >= OFFLOAD_MIN_BYTES
              ? privateThreadSink(fd)
              : new ThreadSink(fd, hasher);
        let received: Awaited<ReturnType<typeof receiveBody>> | undefined;
        let keepOpen = false;
        let described: Promise<void> | undefined;
        try {
          // Described only once the old partial is truncated: a crash in between must never pair
          // new validators with old bytes. Over an earlier attempt's description the new one is on disk
          // before any new byte (nor old validators with new bytes); a fresh slot has nothing to
          // mislead, so its description is written while the body arrives.
          if (start === 0) {
            const hadInfo = slot.info !== null;
            described = describePartial(slot, partialInfoFor(req.url, r, total, encoded));
            described.catch(() => {}); // awaited below
            if (hadInfo) await described;
          }
          received = await receiveBody({
            body: r.body,
            sink,
            sniffer,
            startBytes: start,
            maxBytes: deps.download.max_bytes,
            expectedTotal: total,
            signal: req.signal,
          });
          await described;
          keepOpen = received.ok;
        } finally {
          // An exception before the body was read: drop the connection rather than leave it open.
          if (received === undefined) await r.body?.cancel().catch(() => {});
          if (!keepOpen) await closeFd(fd);
          r.release();
          timings.bodyMs = deps.now() - tBody;
        }
        if (!received.ok) {
          return failure(received.reason, `${req.url}: ${received.message}`, {
            status: r.status,
            finalUrl: r.url,
            bytes: received.bytes,
          });
        }

        const verdict = classifyPayload(
          { head: sniffer.head, tail: sniffer.tail, bytes: received.bytes },
          { minPdfBytes: deps.download.min_pdf_bytes, acceptXml: deps.download.accept_xml },
        );
        if (!verdict.accept) {
          await closeFd(fd); // a refused payload is deleted, never flushed
          return failure(verdict.reason, `${r.url}: ${verdict.detail}`, {
            status: r.status,
            finalUrl: r.url,
            bytes: received.bytes,
            landing:
              verdict.reason === "html_only"
                ? { url: r.url, html: new TextDecoder().decode(sniffer.head) }
                : undefined,
          });
        }
        // The data flush runs while the file is published: publication waits for it before it
        // answers, so nothing is reported stored before its bytes and names are on disk (finalize.ts).
        // For an object store the temp file is only read back for the upload: no flush, just close.
        const flushed = library.remote ? closeFd(fd) : syncer.fdatasync(fd).finally(() => closeFd(fd));
        flushed.catch(() => {}); // awaited by publishFile, or below when publication fails first
        const sha256 = await sink.digest();
        let published: Published;
        try {
          published = await library.publish({
            tempPath: slot.part,
            kind: verdict.kind,
            sha256,
            bytes: received.bytes,
            artifactId: req.artifactId,
            contentType: verdict.contentType,
            syncer,
            flushed,
            // Once the temp name is gone nothing can reopen it: the slot is given up during the flushes.
            onTempRemoved: () => release(slot, true),
          });
        } finally {
          await flushed.catch(() => {});
        }
        stored = true;
        timings.totalMs = deps.now() - t0;
        return {
          ok: true,
          reason: published.duplicate ? "duplicate_content" : "ok",
          status: r.status,
          resumedFrom: start,
          timings,
          file: {
            sha256,
            bytes: received.bytes,
            contentType: verdict.contentType,
            servedContentType: r.headers.get("content-type") ?? undefined,
            kind: verdict.kind,
            path: published.path,
            byIdPath: published.byIdPath,
            url: req.url,
            finalUrl: r.url,
            etag: r.headers.get("etag") ?? undefined,
            lastModified: r.headers.get("last-modified") ?? undefined,
          },
        };
      } finally {
        if (early) await early.then(closeFd, () => {});
      }
    }
    return lastFailure ?? failure("conn_error", `${req.url}: gave up after ${MAX_ROUNDS} requests`, {});
  } catch (err) {
    if (req.signal?.aborted) return failure(abortReason(req.signal), `${req.url}: aborted by the caller`, {});
    throw err;
  } finally {
    const slot = claimed ?? (await claiming.catch(() => undefined));
    if (slot) await release(slot, stored);
  }

  function failure(
    reason: Reason,
    message: string,
    extra: Partial<
      Pick<DownloadFailure, "status" | "retryAt" | "finalUrl" | "bytes" | "landing" | "slowDowns">
    >,
  ): DownloadFailure {
    timings.totalMs = deps.now() - t0;
    return { ok: false, reason, message, url: req.url, bytes: 0, timings, ...extra };
  }

  async function notModified(r: HttpResponse, prior: PriorCopy): Promise<DownloadResult> {
    const kind = kindOfPath(prior.path);
    const byIdPath = await library.linkById(
      req.artifactId,
      kind,
      { path: prior.path, sha256: prior.sha256, bytes: prior.bytes, contentType: CONTENT_TYPES[kind] },
      syncer,
    );
    timings.totalMs = deps.now() - t0;
    return {
      ok: true,
      reason: "not_modified",
      status: 304,
      resumedFrom: 0,
      timings,
      file: {
        sha256: prior.sha256,
        bytes: prior.bytes,
        contentType: CONTENT_TYPES[kind],
        kind,
        path: prior.path,
        byIdPath,
        url: req.url,
        finalUrl: r.url,
        etag: r.headers.get("etag") ?? prior.etag,
        lastModified: r.headers.get("last-modified") ?? prior.lastModified,
      },
    };
  }
}

const CONTENT_TYPES: Record<StoredKind, string> = {
  pdf: "application/pdf",
  xml: "application/xml",
  html: "text/html",
};

function kindOfPath(path: string): StoredKind {
  if (path.endsWith(".xml")) return "xml";
  if (path.endsWith(".html")) return "html";
  return "pdf";
}

/** A body transformed by Content-Encoding has a length and ranges that do not describe the file. */
function isEncoded(headers: Headers): boolean {
  const ce = headers.get("content-encoding");
  return ce !== null && ce.trim() !== "" && ce.trim().toLowerCase() !== "identity";
}

/** The validator If-Range may carry: a strong ETag, else Last-Modified. */
function ifRangeValidator(info: PartialInfo): string | undefined {
  if (info.etag && !info.etag.startsWith("W/")) return info.etag;
  return info.lastModified;
}

/** Bytes of an earlier interrupted attempt of this URL that can be continued, or 0. */
async function resumableBytes(slot: TempSlot, url: string): Promise<number> {
  const info = slot.info;
  if (!info || info.url !== url || !ifRangeValidator(info)) return 0;
  const size = await fileSize(slot.part);
  if (size <= 0 || (info.total !== undefined && size >= info.total)) return 0;
  return size;
}

/** The sidecar for a fresh body, when the response lets a later attempt continue it. */
function partialInfoFor(
  url: string,
  r: HttpResponse,
  total: number | undefined,
  encoded: boolean,
): PartialInfo | null {
  if (encoded) return null;
  const info: PartialInfo = {
    url,
    etag: r.headers.get("etag") ?? undefined,
    lastModified: r.headers.get("last-modified") ?? undefined,
    total,
  };
  return ifRangeValidator(info) ? info : null;
}

async function discardPartial(slot: TempSlot): Promise<void> {
  await unlinkQuiet(slot.part);
  await describePartial(slot, null);
}

// File descriptors are opened and closed on the thread pool: on a busy filesystem a create can wait
// behind a journal commit, and the other downloads' streams must keep flowing meanwhile.
function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.open(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

async function dropBody(r: HttpResponse): Promise<void> {
  await r.body?.cancel().catch(() => {});
  r.release();
}

async function priorIsIntact(library: Library, prior: PriorCopy, rehash: boolean): Promise<boolean> {
  if ((await library.size(prior.path)) !== prior.bytes) return false;
  return !rehash || (await library.hash(prior.path)) === prior.sha256;
}
