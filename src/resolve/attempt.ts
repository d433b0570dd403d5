// The bridge from the plan to the download pipeline: a candidate is tried by downloading it, and a
// landing page met instead of a file is handed back for scraping. Used by `fetch` and the runner.
import { type DownloadDeps, downloadCandidate } from "../download/candidate.ts";
import type { DownloadFailure, DownloadResult, DownloadSuccess } from "../download/types.ts";
import type { CandidateTry } from "./plan.ts";
import type { Candidate } from "./types.ts";

export interface TrierOptions {
  artifactId: string;
  maxWaitMs?: number;
  /** Every finished try (attempt records, telemetry). */
  onAttempt?: (candidate: Candidate, result: DownloadResult) => void;
}

export function downloadTrier(
  deps: DownloadDeps,
  o: TrierOptions,
): (candidate: Candidate, signal: AbortSignal) => Promise<CandidateTry<DownloadSuccess>> {
  return async (candidate, signal) => {
    const r = await downloadCandidate(deps, {
      url: candidate.url,
      artifactId: o.artifactId,
      resolver: candidate.resolver,
      signal,
      maxWaitMs: o.maxWaitMs,
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
    html: r.landing ? { url: r.landing.url, text: r.landing.html } : undefined,
  };
}
