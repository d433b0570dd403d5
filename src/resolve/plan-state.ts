// What one run of the tier plan shares between its parts (scheduler, resolver questions, scraping,
// verdict): its dependencies and result type, the progress being built, the candidates by dedupe
// key, the pages already scraped, the job's abort and budget. Holds state only; no I/O.
import type { Config, ResolverName } from "../config/schema.ts";
import { type Failure, isTransient, type Reason } from "../core/reasons.ts";
import { hostKey } from "../core/url.ts";
import type { DownloadResult, DownloadSuccess } from "../download/types.ts";
import type { HttpClient } from "../net/types.ts";
import type { QuotaGate } from "../quota/gate.ts";
import { noopTracer, type Span, type Tracer } from "../telemetry/tracing.ts";
import { type CandidateRecord, candidateKey, MAX_CANDIDATE_RECORDS, type PlanProgress } from "./progress.ts";
import type { ResolverSettings } from "./resolver.ts";
import type { Candidate, CandidateSeed, Provenance, ResolvableWork } from "./types.ts";

/**
 * Tries one PDF candidate: the download's own result is the plan's (a failure may carry the HTML page
 * met instead, to scrape one level deep). `slowDownRetries`: the 429/503 retries this candidate has
 * left (`download.retries` less those used in earlier attempts). `span`: the try's `download` span,
 * for the caller to add what it learns (status, bytes).
 */
export type TryCandidate = (
  candidate: Candidate,
  signal: AbortSignal,
  slowDownRetries: number | undefined,
  span: Span,
) => Promise<DownloadResult>;

export interface PlanDeps {
  config: Config;
  settings: ResolverSettings;
  http: HttpClient;
  /** Absent only when listing (`listOnly`): no PDF candidate is downloaded then. */
  tryCandidate?: TryCandidate;
  /** Cancels the whole job (lease loss, shutdown). */
  signal?: AbortSignal;
  now?: () => number;
  /**
   * List instead of fetch (`docstokg resolve`): resolvers are asked, PDF candidates are not
   * downloaded, and landing pages are fetched for scraping only when `scrapeLanding` is set.
   */
  listOnly?: { scrapeLanding: boolean };
  /**
   * Daily quotas per resolver: an exhausted one is not asked (its record says why: unsettled until
   * the reset under `wait`, skipped under `skip`), and every request that goes out is counted.
   */
  quota?: QuotaGate;
  /** Called after each tier with the progress so far (the runner may save it before the job ends). */
  onProgress?: (progress: PlanProgress) => void;
  /** Spans for each tier, resolver request, landing page and download, under `traceParent`. */
  tracer?: Tracer;
  traceParent?: Span;
}

/** The plan's verdict: the winning download and its candidate, or the failure that explains the job best. */
export type PlanResult =
  | { ok: true; outcome: DownloadSuccess; candidate: Candidate; progress: PlanProgress }
  | ({ ok: false; progress: PlanProgress } & Failure);

export function enabled(config: Config, name: ResolverName): boolean {
  return (config.resolvers as unknown as Record<string, { enabled?: boolean }>)[name]?.enabled !== false;
}

export class PlanState {
  readonly progress: PlanProgress;
  readonly byKey = new Map<string, CandidateRecord>();
  /** Dedupe keys of landing pages scraped for this job (their first and final URLs). */
  readonly scrapedPages = new Set<string>();
  /** Aborted when the job is won, cancelled or out of time: everything still running stops. */
  readonly abort = new AbortController();
  readonly now: () => number;
  readonly deadline: number;
  readonly tracer: Tracer;
  winner?: { outcome: DownloadSuccess; candidate: Candidate };
  tried = 0;
  budgetHit = false;
  cancelled = false;
  /** The work's identifiers with those found on the way (derived ids feed `direct`). */
  ids: ResolvableWork;
  /** The running tier's span (tiers run one after another), parent of its requests' spans. */
  tierSpan?: Span;

  constructor(
    work: ResolvableWork,
    readonly deps: PlanDeps,
    progress: PlanProgress,
  ) {
    this.progress = progress;
    this.now = deps.now ?? Date.now;
    this.deadline = this.now() + deps.config.download.job_budget_s * 1000;
    this.tracer = deps.tracer ?? noopTracer;
    for (const c of progress.candidates) {
      this.byKey.set(c.key, c);
      if (c.kind === "landing" && c.state === "scraped") {
        this.scrapedPages.add(c.key);
        if (c.final_url) this.scrapedPages.add(candidateKey(c.final_url));
      }
    }
    this.ids = { ...work, ...progress.derived, ...definedIds(work) };
  }

  get config(): Config {
    return this.deps.config;
  }

  stopped(): boolean {
    return this.winner !== undefined || this.cancelled || this.budgetHit || this.abort.signal.aborted;
  }

  /** Record a new candidate; a duplicate (same dedupe key) only lends the first its missing provenance. */
  add(candidate: Candidate, extra: Partial<CandidateRecord> = {}): CandidateRecord | undefined {
    const key = candidateKey(candidate.url);
    const known = this.byKey.get(key);
    if (known) {
      // Another source proposing the same file may know what the first did not (licence, version…).
      known.provenance = mergeProvenance(known.provenance, candidate.provenance);
      return undefined;
    }
    if (this.progress.candidates.length >= MAX_CANDIDATE_RECORDS) return undefined;
    const rec: CandidateRecord = { ...candidate, key, state: "pending", depth: 0, ...extra };
    this.byKey.set(key, rec);
    this.progress.candidates.push(rec);
    return rec;
  }

  /** The 429/503 retries a candidate has left of `download.retries` (used ones persist across attempts). */
  slowDownRetriesLeft(rec: CandidateRecord): number {
    return Math.max(0, this.config.download.retries - (rec.slow_downs ?? 0));
  }
}

/** Candidates found by one resolver (or a scraped page) for the running tier; returns how many were new. */
export type AddSeeds = (
  resolver: ResolverName,
  seeds: CandidateSeed[],
  extra?: Partial<CandidateRecord>,
) => number;

export function fail(rec: CandidateRecord, reason: Reason, message?: string, retryAt?: number): void {
  rec.state = "failed";
  rec.reason = reason;
  rec.message = message;
  rec.transient = isTransient(reason) || undefined;
  rec.retryAt = retryAt;
}

/**
 * 429/503 answers are remembered with the candidate across attempts: a job released while a host
 * asked for a long wait continues with the retries it had left, so a host that always answers 503
 * cannot keep a job cycling forever.
 */
export function countSlowDowns(rec: CandidateRecord, n: number | undefined): void {
  if (n) rec.slow_downs = (rec.slow_downs ?? 0) + n;
}

const PROVENANCE_KEYS = ["license", "license_url", "version", "host_type", "oa_status"] as const;

/** `into` with the provenance keys it lacks taken from `from` (the first source's word stands). */
function mergeProvenance(into: Provenance, from: Provenance): Provenance {
  let out = into;
  for (const k of PROVENANCE_KEYS)
    if (into[k] === undefined && from[k] !== undefined) out = { ...out, [k]: from[k] };
  return out;
}

export function publicCandidate(rec: CandidateRecord): Candidate {
  return { url: rec.url, kind: rec.kind, resolver: rec.resolver, tier: rec.tier, provenance: rec.provenance };
}

function definedIds(work: ResolvableWork): Partial<ResolvableWork> {
  const out: Partial<ResolvableWork> = {};
  for (const k of ["doi", "pmid", "pmcid", "arxiv"] as const) if (work[k]) out[k] = work[k];
  return out;
}

/** A URL's host key for span attributes; undefined for a URL that does not parse. */
export function hostOf(url: string): string | undefined {
  try {
    return hostKey(url);
  } catch {
    return undefined;
  }
}
