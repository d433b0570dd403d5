// The product's job step: the tier plan (resolvers, candidates, landing pages, archive) with the
// job's persisted progress, each PDF candidate downloaded into the library, every candidate try
// recorded as an attempt, and the plan's verdict turned into a StepResult for the commit.
import type { Config } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";
import { hostKey } from "../core/url.ts";
import type { DownloadDeps } from "../download/candidate.ts";
import { isDiskFullError } from "../download/disk-space.ts";
import type { DownloadResult, DownloadSuccess } from "../download/types.ts";
import { type Library, recordedPath } from "../library/library.ts";
import { isStoreUnavailable } from "../library/s3.ts";
import type { HttpClient, HttpRequest, HttpResult } from "../net/types.ts";
import type { QuotaGate } from "../quota/gate.ts";
import { downloadTrier, storedUrlEntry } from "../resolve/attempt.ts";
import { runPlan } from "../resolve/plan.ts";
import type { PlanProgress } from "../resolve/progress.ts";
import { outcomeDetailProvenance } from "../resolve/provenance.ts";
import type { ResolverSettings } from "../resolve/resolver.ts";
import type { Candidate } from "../resolve/types.ts";
import type { StoredUrls } from "../store/stored-urls.ts";
import type { AttemptRecord } from "../store/types.ts";
import type { ProductMetrics } from "../telemetry/product-metrics.ts";
import type { Span, Tracer } from "../telemetry/tracing.ts";
import type { JobStep, StepResult } from "./step.ts";

export interface PipelineDeps {
  config: Config;
  http: HttpClient;
  settings: ResolverSettings;
  now: () => number;
  metrics?: ProductMetrics;
  /** Told when a download meets a full disk, so the runner stops leasing. */
  space?: { reportFull(): void };
  /** The process's flush and hashing threads, shared by every download. */
  threads?: Pick<DownloadDeps, "syncer" | "hashers">;
  /** The library's index by canonical URL (reuse, conditional re-fetch); without it all is downloaded. */
  storedUrls?: StoredUrls;
  /** Daily quotas per resolver, shared in the database (src/quota). */
  quota?: QuotaGate;
  /** Spans of the plan (tiers, requests, downloads) under the job's root span. Default: none. */
  tracer?: Tracer;
  /** Where files are stored (src/library); without it, the local directory `out_dir`. */
  library?: Library;
  /** How long a job whose upload failed waits before it is offered again (default 60 s). */
  storeRetryMs?: number;
}

/** Reasons a request gets when this process's limiter would not wait long enough for the host. */
const POLITENESS_WAITS: ReadonlySet<string> = new Set(["rate_limited", "breaker_open"]);

function safeHost(url: string): string | null {
  try {
    return hostKey(url);
  } catch {
    return null;
  }
}

/** The attempt row for one candidate download (tiers 1-based, as the configuration lists them). */
export function attemptRecord(c: Candidate, r: DownloadResult, at: number): AttemptRecord {
  return {
    resolver: c.resolver,
    tier: c.tier + 1,
    url: c.url,
    host: safeHost(c.url),
    httpStatus: r.ok ? (r.reused ? null : r.status) : (r.status ?? null),
    reason: r.reason,
    bytes: receivedBytes(r),
    elapsedMs: Math.round(r.timings.totalMs),
    rateWaitMs: Math.round(r.timings.rateWaitMs),
    at,
  };
}

/** Body bytes that came over the network: none for a reused file or a 304, only the rest of a resumed one. */
export function receivedBytes(r: DownloadResult): number {
  if (!r.ok) return r.bytes;
  if (r.reused || r.reason === "not_modified") return 0;
  return r.file.bytes - r.resumedFrom;
}

/**
 * The attempt row of a metadata or landing request that went out: a fresh cache hit and a refusal
 * by this process's limiter sent nothing and give none. The URL is left out: API URLs carry contact
 * addresses and keys; the host says where it went.
 */
export function requestAttempt(req: HttpRequest, r: HttpResult, at: number): AttemptRecord | null {
  if (r.ok && r.response.fromCache) return null;
  if (!r.ok && r.status === undefined && (POLITENESS_WAITS.has(r.reason) || r.reason === "cancelled"))
    return null;
  return {
    role: req.role,
    resolver: req.resolver ?? null,
    host: safeHost(req.url),
    httpStatus: r.ok ? r.response.status : (r.status ?? null),
    reason: r.ok ? null : r.reason,
    rateWaitMs: r.ok ? Math.round(r.response.rateWaitMs) : null,
    heldBackMs: r.ok ? Math.round(r.response.heldBackMs ?? 0) : null,
    at,
  };
}

/** A refusal by the limiter (no request was sent): not a try, not a request. */
function isRefusal(r: DownloadResult): boolean {
  return !r.ok && r.status === undefined && (POLITENESS_WAITS.has(r.reason) || r.reason === "cancelled");
}

/** Whether every transient failure of the plan was a politeness wait (nothing else went wrong). */
export function onlyPolitenessWaits(progress: PlanProgress): boolean {
  const reasons: string[] = [];
  for (const c of progress.candidates) if (c.state === "failed" && c.transient) reasons.push(c.reason ?? "");
  for (const r of Object.values(progress.resolvers))
    if (r.state === "unsettled") reasons.push(r.reason ?? "conn_error");
  return reasons.length > 0 && reasons.every((r) => POLITENESS_WAITS.has(r));
}

export function resolveAndDownload(deps: PipelineDeps): JobStep {
  const { config, metrics } = deps;
  return async (job, ctx) => {
    const attempts: AttemptRecord[] = [];
    let served429 = false;
    // A full disk ends the job's work at once: every other candidate would meet it too. So does an
    // object store that stays unavailable through its retries.
    let diskFull: string | undefined;
    let storeDown: string | undefined;
    const stopForDisk = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stopForDisk.signal]);
    let bytes = 0;
    // The span of each candidate being downloaded, so its finished try can tell it status and bytes.
    const spans = new Map<Candidate, Span>();
    // Per job: notice an origin's own 429 (a real try, counted) and feed the request metrics.
    const http: HttpClient = {
      async request(req: HttpRequest): Promise<HttpResult> {
        const r = await deps.http.request(req);
        // Metadata and landing requests are attempts too (role set), so the report can state their
        // rate waits and 429s per host; candidate downloads are recorded by onAttempt below.
        if (req.role !== "artifact") {
          const a = requestAttempt(req, r, deps.now());
          if (a) attempts.push(a);
        }
        if (r.ok) metrics?.recordRequest(req.role, r.response.status, r.response.rateWaitMs);
        else if (r.status !== undefined) {
          if (r.status === 429) served429 = true;
          metrics?.recordRequest(req.role, r.status, 0);
        } else if (!POLITENESS_WAITS.has(r.reason) && r.reason !== "cancelled") {
          metrics?.recordRequest(req.role, undefined, 0);
        }
        return r;
      },
    };
    const download = downloadTrier(
      {
        http,
        outDir: config.out_dir,
        library: deps.library,
        download: config.download,
        now: deps.now,
        ...deps.threads,
      },
      {
        artifactId: job.artifactId,
        storedUrls: deps.storedUrls,
        onAttempt: (candidate, r) => {
          spans.get(candidate)?.set({
            status: r.ok ? (r.reused ? undefined : r.status) : r.status,
            bytes: receivedBytes(r),
            reason: r.reason,
            reused: r.ok && r.reused ? true : undefined,
          });
          bytes += receivedBytes(r);
          if (r.ok && !r.reused)
            metrics?.downloadSeconds.observe(undefined, (r.timings.headersMs + r.timings.bodyMs) / 1000);
          if (!isRefusal(r)) attempts.push(attemptRecord(candidate, r, deps.now()));
        },
      },
    );
    const r = await runPlan<DownloadSuccess>(
      job.artifact,
      {
        config,
        settings: deps.settings,
        http,
        signal,
        now: deps.now,
        quota: deps.quota,
        tryCandidate: async (candidate, sig, _retries, span) => {
          spans.set(candidate, span);
          try {
            return await download(candidate, sig);
          } catch (e) {
            if (isStoreUnavailable(e)) {
              // The store's trouble, not the URL's (the upload was retried with backoff already):
              // record the try, stop the job's other work; the job goes back without an attempt.
              const message = `${candidate.url}: ${e.message}`;
              attempts.push({
                resolver: candidate.resolver,
                tier: candidate.tier + 1,
                url: candidate.url,
                host: safeHost(candidate.url),
                reason: "store_unavailable",
                at: deps.now(),
              });
              storeDown ??= message;
              stopForDisk.abort();
              return { ok: false, reason: "store_unavailable", message };
            }
            // A full disk is this machine's trouble, not the URL's (the download removed its temp
            // file): record the try, stop the job's other work, and tell the runner to stop leasing.
            if (!isDiskFullError(e)) throw e;
            const message = `${candidate.url}: no space left on the library's filesystem (${config.out_dir})`;
            attempts.push({
              resolver: candidate.resolver,
              tier: candidate.tier + 1,
              url: candidate.url,
              host: safeHost(candidate.url),
              reason: "disk_full",
              at: deps.now(),
            });
            if (diskFull === undefined) {
              diskFull = message;
              deps.space?.reportFull();
              stopForDisk.abort();
            }
            return { ok: false, reason: "disk_full", message };
          } finally {
            spans.delete(candidate);
          }
        },
        onProgress: (p) => ctx.saveProgress(p),
        tracer: deps.tracer,
        traceParent: ctx.span,
      },
      job.progress ?? undefined,
    );
    metrics?.bytes.inc(undefined, bytes);
    if (diskFull !== undefined && !r.ok && !ctx.signal.aborted) {
      return {
        ok: false,
        reason: "disk_full",
        transient: true,
        message: diskFull,
        // Not offered to any runner before this one measures the disk again.
        retryAt: deps.now() + config.orchestrator.disk_check_s * 1000,
        deferred: false,
        attempts,
        bytes,
        progress: r.progress,
        detail: { message: diskFull },
      };
    }
    if (storeDown !== undefined && !r.ok && !ctx.signal.aborted) {
      return {
        ok: false,
        reason: "store_unavailable",
        transient: true,
        message: storeDown,
        retryAt: deps.now() + (deps.storeRetryMs ?? 60_000),
        deferred: false,
        attempts,
        bytes,
        progress: r.progress,
        detail: { message: storeDown },
      };
    }
    return stepResult(r, config.out_dir, attempts, bytes, served429);
  };
}

type PlanOutcome = Awaited<ReturnType<typeof runPlan<DownloadSuccess>>>;

export function stepResult(
  r: PlanOutcome,
  outDir: string,
  attempts: AttemptRecord[],
  bytes: number,
  served429: boolean,
): StepResult {
  if (r.ok) {
    const f = r.outcome.file;
    return {
      ok: true,
      reason: r.outcome.reason,
      attempts,
      bytes,
      detail: {
        resolver: r.candidate.resolver,
        tier: r.candidate.tier + 1,
        url: f.url,
        finalUrl: f.finalUrl,
        sha256: f.sha256,
        bytes: f.bytes,
        contentType: f.contentType,
        // Relative to a local library, so the library can move; an s3:// URL on object storage.
        path: recordedPath(outDir, f.path),
        etag: f.etag ?? null,
        lastModified: f.lastModified ?? null,
        ...outcomeDetailProvenance(r.candidate.provenance),
      },
      stored: storedUrlEntry(r.outcome, outDir),
    };
  }
  const deferred = r.transient && !served429 && onlyPolitenessWaits(r.progress);
  return {
    ok: false,
    reason: r.reason as Reason,
    transient: r.transient,
    message: r.message,
    retryAt: r.retryAt,
    deferred,
    attempts,
    bytes,
    progress: r.progress,
    detail: { message: r.message },
  };
}
