// The bridge from the plan to the download pipeline: a candidate is tried by downloading it, and a
// landing page met instead of a file is handed back for scraping. Before any request the library's
// URL index is consulted (download/reuse.ts): reuse, conditional re-fetch, or a plain download.
// Used by `fetch` and the runner.
import { canonicalUrl } from "../core/url.ts";
import { type DownloadDeps, downloadCandidate } from "../download/candidate.ts";
import { decideReuse, reuseStored } from "../download/reuse.ts";
import type { DownloadFailure, DownloadResult, DownloadSuccess, PriorCopy } from "../download/types.ts";
import { localLibrary, recordedPath } from "../library/library.ts";
import type { StoredUrlInput, StoredUrls } from "../store/stored-urls.ts";
import type { CandidateTry } from "./plan.ts";
import type { Candidate } from "./types.ts";

export interface TrierOptions {
  artifactId: string;
  /** Every finished try (attempt records, telemetry). */
  onAttempt?: (candidate: Candidate, result: DownloadResult) => void;
  /** The library's index by canonical URL; without it every candidate is downloaded. */
  storedUrls?: StoredUrls;
}

export function downloadTrier(
  deps: DownloadDeps,
  o: TrierOptions,
): (
  candidate: Candidate,
  signal: AbortSignal,
  slowDownRetries?: number,
) => Promise<CandidateTry<DownloadSuccess>> {
  const library = deps.library ?? localLibrary(deps.outDir, deps.syncer);
  return async (candidate, signal, slowDownRetries) => {
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
        if (r) {
          o.onAttempt?.(candidate, r);
          return { ok: true, outcome: r };
        }
        await o.storedUrls.forget(key, d.entry.sha256);
      } else if (d.action === "conditional") prior = d.prior;
      else if (d.stale) await o.storedUrls.forget(key, d.stale.sha256);
    }
    const r = await downloadCandidate(deps, {
      url: candidate.url,
      artifactId: o.artifactId,
      resolver: candidate.resolver,
      prior,
      signal,
      slowDownRetries,
    });
    o.onAttempt?.(candidate, r);
    if (r.ok) return { ok: true, outcome: r };
    return failureTry(r);
  };
}

function failureTry(r: DownloadFailure): CandidateTry<DownloadSuccess> {
  return {
    ok: false,
    reason: r.reason,
    message: r.message,
    retryAt: r.retryAt,
    slowDowns: r.slowDowns,
    html: r.landing ? { url: r.landing.url, text: r.landing.html } : undefined,
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
