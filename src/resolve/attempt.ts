// The bridge from the plan to the download pipeline: a candidate is tried by downloading it, and its
// DownloadResult is the plan's (a landing page met instead of a file rides along for scraping).
// Before any request the library's URL index is consulted (download/reuse.ts): reuse, conditional
// re-fetch, or a plain download. A full disk, or an object store still down after its retries,
// which the download throws, becomes a `disk_full` or `store_unavailable` result here. Used by
// `fetch` and the runner.
import { canonicalUrl } from "../core/url.ts";
import { type DownloadDeps, downloadCandidate } from "../download/candidate.ts";
import { isDiskFullError } from "../download/disk-space.ts";
import { decideReuse, reuseStored } from "../download/reuse.ts";
import type { DownloadResult, DownloadSuccess, PriorCopy } from "../download/types.ts";
import { localLibrary, recordedPath } from "../library/library.ts";
import { isStoreUnavailable } from "../library/s3.ts";
import type { StoredUrlInput, StoredUrls } from "../store/stored-urls.ts";
import type { Span } from "../telemetry/tracing.ts";
import type { TryCandidate } from "./plan-state.ts";
import type { Candidate } from "./types.ts";

export interface TrierOptions {
  artifactId: string;
  /** Every finished try, with the try's span (attempt records, telemetry). */
  onAttempt?: (candidate: Candidate, result: DownloadResult, span?: Span) => void;
  /** The library's index by canonical URL; without it every candidate is downloaded. */
  storedUrls?: StoredUrls;
}

export function downloadTrier(deps: DownloadDeps, o: TrierOptions): TryCandidate {
  const library = deps.library ?? localLibrary(deps.outDir, deps.syncer);
  const attempt = async (
    candidate: Candidate,
    signal: AbortSignal,
    slowDownRetries: number | undefined,
  ): Promise<DownloadResult> => {
    let prior: PriorCopy | undefined;
    if (o.storedUrls) {
      const key = canonicalUrl(candidate.url) ?? candidate.url;
      const recorded = await o.storedUrls.find(key);
      const found = recorded ? await library.find(recorded.path) : undefined;
      // The entry as found on disk (its path in whichever layout holds the file now).
      const entry = recorded && found ? { ...recorded, path: found.path } : recorded;
      const d = decideReuse(entry, o.artifactId, (p) => library.locate(p), found?.size);
      if (d.action === "reuse") {
        const r = await reuseStored(library, o.artifactId, candidate.url, d, deps.syncer);
        if (r) return r;
        await o.storedUrls.forget(key, d.entry.sha256);
      } else if (d.action === "conditional") prior = d.prior;
      else if (d.stale) await o.storedUrls.forget(key, d.stale.sha256);
    }
    return downloadCandidate(deps, {
      url: candidate.url,
      artifactId: o.artifactId,
      resolver: candidate.resolver,
      prior,
      signal,
      slowDownRetries,
    });
  };
  return async (candidate, signal, slowDownRetries, span) => {
    let r: DownloadResult;
    try {
      r = await attempt(candidate, signal, slowDownRetries);
    } catch (e) {
      // The store's trouble, not the URL's: an object store still down after the upload's retries
      // with backoff, or a full disk (the download removed its temp file either way).
      if (isStoreUnavailable(e)) {
        r = {
          ok: false,
          reason: "store_unavailable",
          message: `${candidate.url}: ${e.message}`,
          url: candidate.url,
          bytes: 0,
        };
      } else if (isDiskFullError(e)) {
        const message = `${candidate.url}: no space left on the library's filesystem (${deps.outDir})`;
        r = { ok: false, reason: "disk_full", message, url: candidate.url, bytes: 0 };
      } else throw e;
    }
    o.onAttempt?.(candidate, r, span);
    return r;
  };
}

/**
 * The URL index entry a success leaves: its canonical URL names the stored file and validators.
 * None for a reused file: it stays indexed under the download that stored it, so a re-fetch by that
 * artifact stays conditional; anything that came from the server (re)indexes its canonical URL.
 */
export function storedUrlEntry(outcome: DownloadSuccess, outDir: string): StoredUrlInput | undefined {
  if (outcome.reused) return undefined;
  const f = outcome.file;
  return {
    url: canonicalUrl(f.url) ?? f.url,
    sha256: f.sha256,
    path: recordedPath(outDir, f.path),
    bytes: f.bytes,
    kind: f.kind,
    etag: f.etag ?? null,
    lastModified: f.lastModified ?? null,
  };
}
