// Downloading one candidate URL end to end, in rounds of one request each: the request's conditions
// and the answer's meaning are interpret-response.ts (pure), the body goes to a temp file in
// receive-to-temp.ts, is classified by its bytes (classify.ts) and published by publish.ts. Returns a
// result with a stable reason; the caller records it with the job's ack. A temp file never outlives a
// handled failure; disk and store errors propagate.
import type { Config } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";
import { type Library, localLibrary } from "../library/library.ts";
import type { HttpClient, HttpResponse } from "../net/types.ts";
import { classifyPayload } from "./classify.ts";
import { interpretResponse, roundHeaders } from "./interpret-response.ts";
import type { HashingThreads } from "./offload.ts";
import { linkPrior, priorIsIntact, publishReceived } from "./publish.ts";
import { discardPartial, dropBody, receiveToTemp, resumableBytes } from "./receive-to-temp.ts";
import { abortReason } from "./stream.ts";
import { type DiskSyncer, poolSyncer } from "./syncer.ts";
import { claimTempSlot, closeFd, openFd, releaseTempSlot, slotInUse, type TempSlot } from "./temp.ts";
import type { DownloadFailure, DownloadResult, PriorCopy, Timings } from "./types.ts";

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
    let conditional = req.prior !== undefined;
    let lastFailure: DownloadFailure | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const resumeFrom = allowResume && claimed ? await resumableBytes(claimed, req.url) : 0;
      const partial = resumeFrom > 0 ? (claimed as TempSlot).info : null;
      const headers = roundHeaders({ resumeFrom, partial, prior: req.prior, conditional });
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
        const asked = {
          url: req.url,
          resumeFrom,
          partial: slot.info,
          conditional,
          maxBytes: deps.download.max_bytes,
        };
        if (!res.ok) {
          if (interpretResponse(asked, res).next === "start_over") {
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
        const step = interpretResponse(asked, { ok: true, status: r.status, headers: r.headers });
        switch (step.next) {
          case "check_prior": {
            await dropBody(r);
            const prior = req.prior as PriorCopy; // conditional only with a prior copy
            if (await priorIsIntact(library, prior, req.verifyPrior === true))
              return await notModified(r, prior);
            // The stored copy is gone or damaged: ask again for the whole file.
            conditional = false;
            continue;
          }
          case "start_over": {
            await dropBody(r);
            await discardPartial(slot);
            allowResume = false;
            const f = step.failure;
            if (f) lastFailure = failure(f.reason, f.message, { status: r.status, finalUrl: r.url });
            continue;
          }
          case "refuse":
            await dropBody(r);
            return failure(step.failure.reason, step.failure.message, { status: r.status, finalUrl: r.url });
        }

        const { start, total, encoded } = step;
        const opened = start === 0 ? early : undefined;
        if (opened) early = undefined;
        const received = await receiveToTemp({
          url: req.url,
          response: r,
          slot,
          start,
          total,
          encoded,
          opened,
          maxBytes: deps.download.max_bytes,
          hashers: deps.hashers,
          signal: req.signal,
          timings,
          now: deps.now,
        });
        if (!received.ok) {
          return failure(received.reason, `${req.url}: ${received.message}`, {
            status: r.status,
            finalUrl: r.url,
            bytes: received.bytes,
          });
        }

        const verdict = classifyPayload(
          { head: received.sniffer.head, tail: received.sniffer.tail, bytes: received.bytes },
          { minPdfBytes: deps.download.min_pdf_bytes, acceptXml: deps.download.accept_xml },
        );
        if (!verdict.accept) {
          await closeFd(received.fd); // a refused payload is deleted, never flushed
          return failure(verdict.reason, `${r.url}: ${verdict.detail}`, {
            status: r.status,
            finalUrl: r.url,
            bytes: received.bytes,
            landing:
              verdict.reason === "html_only"
                ? { url: r.url, html: new TextDecoder().decode(received.sniffer.head) }
                : undefined,
          });
        }
        const published = await publishReceived({
          library,
          syncer,
          tempPath: slot.part,
          fd: received.fd,
          sink: received.sink,
          kind: verdict.kind,
          contentType: verdict.contentType,
          bytes: received.bytes,
          artifactId: req.artifactId,
          onTempRemoved: () => release(slot, true),
        });
        stored = true;
        timings.totalMs = deps.now() - t0;
        return {
          ok: true,
          reason: published.duplicate ? "duplicate_content" : "ok",
          status: r.status,
          resumedFrom: start,
          timings,
          file: {
            sha256: published.sha256,
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
    const { byIdPath, kind, contentType } = await linkPrior(library, syncer, req.artifactId, prior);
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
        contentType,
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
