// The product's job step: the tier plan (resolvers, candidates, landing pages, archive) with the
// job's persisted progress, each PDF candidate downloaded into the library, everything the job sent
// recorded as attempts (attempts.ts), and the plan's verdict extended into the StepResult to commit.
import type { Config } from "../config/schema.ts";
import type { DownloadDeps } from "../download/candidate.ts";
import type { DownloadResult } from "../download/types.ts";
import { type Library, recordedPath } from "../library/library.ts";
import type { HttpClient } from "../net/types.ts";
import type { QuotaGate } from "../quota/gate.ts";
import { downloadTrier, storedUrlEntry } from "../resolve/attempt.ts";
import { type PlanResult, runPlan } from "../resolve/plan.ts";
import type { PlanProgress } from "../resolve/progress.ts";
import { outcomeDetailProvenance } from "../resolve/provenance.ts";
import type { ResolverSettings } from "../resolve/resolver.ts";
import type { StoredUrls } from "../store/stored-urls.ts";
import type { AttemptRecord } from "../store/types.ts";
import type { ProductMetrics } from "../telemetry/product-metrics.ts";
import type { Attributes, Tracer } from "../telemetry/tracing.ts";
import { JobAttempts, POLITENESS_WAITS, receivedBytes } from "./attempts.ts";
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
    const record = new JobAttempts(deps.now, metrics);
    const http = record.client(deps.http);
    // A full disk ends the job's work at once: every other candidate would meet it too. So does an
    // object store that stays unavailable through its retries.
    let diskFull: string | undefined;
    let storeDown: string | undefined;
    const stopForDisk = new AbortController();
    const tryCandidate = downloadTrier(
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
        onAttempt: (candidate, r, span) => {
          span?.set(trySpanAttributes(r));
          record.tried(candidate, r);
          if (r.reason === "disk_full" && diskFull === undefined) {
            // Tell the runner to stop leasing, and stop the job's other work.
            diskFull = r.message;
            deps.space?.reportFull();
            stopForDisk.abort();
          }
          if (r.reason === "store_unavailable" && storeDown === undefined) {
            storeDown = r.message;
            stopForDisk.abort();
          }
        },
      },
    );
    const r = await runPlan(
      job.artifact,
      {
        config,
        settings: deps.settings,
        http,
        signal: AbortSignal.any([ctx.signal, stopForDisk.signal]),
        now: deps.now,
        quota: deps.quota,
        // The 429/503 retries a candidate has left over all its attempts (plan progress keeps the
        // count), so a host that keeps asking for long waits cannot cycle a job forever.
        tryCandidate,
        onProgress: (p) => ctx.saveProgress(p),
        tracer: deps.tracer,
        traceParent: ctx.span,
      },
      job.progress ?? undefined,
    );
    metrics?.bytes.inc(undefined, record.bytes);
    if (diskFull !== undefined && !r.ok && !ctx.signal.aborted) {
      // Not offered to any runner before this one measures the disk again.
      const retryAt = deps.now() + config.orchestrator.disk_check_s * 1000;
      const failure = { ...r, reason: "disk_full" as const, transient: true, message: diskFull, retryAt };
      return {
        ...failure,
        deferred: false,
        attempts: record.rows,
        bytes: record.bytes,
        detail: { message: diskFull },
      };
    }
    if (storeDown !== undefined && !r.ok && !ctx.signal.aborted) {
      // Released without an attempt (decide.ts), offered again once the store may be back.
      const retryAt = deps.now() + (deps.storeRetryMs ?? 60_000);
      const failure = {
        ...r,
        reason: "store_unavailable" as const,
        transient: true,
        message: storeDown,
        retryAt,
      };
      return {
        ...failure,
        deferred: false,
        attempts: record.rows,
        bytes: record.bytes,
        detail: { message: storeDown },
      };
    }
    return stepResult(r, config.out_dir, record.rows, record.bytes, record.served429);
  };
}

/** What a finished try tells its `download` span. */
function trySpanAttributes(r: DownloadResult): Attributes {
  return {
    status: r.ok ? (r.reused ? undefined : r.status) : r.status,
    bytes: receivedBytes(r),
    reason: r.reason,
    reused: r.ok && r.reused ? true : undefined,
  };
}

/**
 * The plan's verdict as the step's result: a win becomes the outcome detail and URL index entry to
 * commit; a failure is the plan's own, extended with what the step gathered.
 */
export function stepResult(
  r: PlanResult,
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
  return { ...r, deferred, attempts, bytes, detail: { message: r.message } };
}
