// The tiered fallback plan (SPEC 5): tiers in configured order, resolvers within a tier in
// parallel, candidates deduplicated by canonical URL and tried as they arrive (PDFs before landing
// pages), the first valid file aborting the rest of the job's work, a per-job budget, and progress
// that a retry resumes from. Downloads are injected (`tryCandidate`) so the plan is the same for
// `fetch`, the runner and tests.
import type { Config, ResolverName } from "../config/schema.ts";
import { isTransient, type Reason } from "../core/reasons.ts";
import { redactText } from "../core/redact.ts";
import { hostKey } from "../core/url.ts";
import type { HttpClient } from "../net/types.ts";
import type { QuotaGate } from "../quota/gate.ts";
import { noopTracer, type Span, type Tracer } from "../telemetry/tracing.ts";
import { discard, readBounded } from "./body.ts";
import { idCandidates } from "./direct.ts";
import { scrapeLandingPage } from "./landing.ts";
import {
  type CandidateRecord,
  candidateKey,
  emptyProgress,
  MAX_CANDIDATE_RECORDS,
  type PlanProgress,
  type ResolverRecord,
  resumeProgress,
} from "./progress.ts";
import { RESOLVERS } from "./registry.ts";
import { isSkip, type ResolverSettings } from "./resolver.ts";
import { MalformedResponse } from "./shape.ts";
import type {
  Candidate,
  CandidateSeed,
  DerivedIds,
  Provenance,
  ResolvableWork,
  ResolverAnswer,
  ResolverMapping,
  ResolverRequest,
} from "./types.ts";
import { nextIndex } from "./version-order.ts";
import { mapWayback, waybackRequest } from "./wayback.ts";

/** What trying one PDF candidate gave; on failure, an HTML page met instead may be scraped. */
export type CandidateTry<T> =
  | { ok: true; outcome: T }
  | {
      ok: false;
      reason: Reason;
      message?: string;
      retryAt?: number;
      /** 429/503 answers met on the way (counted against `download.retries` across attempts). */
      slowDowns?: number;
      /** The page the candidate answered with (bounded), to scrape one level deep. */
      html?: { url: string; text: string };
    };

export interface PlanDeps<T> {
  config: Config;
  settings: ResolverSettings;
  http: HttpClient;
  /**
   * `slowDownRetries`: the 429/503 retries this candidate has left (`download.retries` less those used).
   * `span`: the try's `download` span, for the caller to add what it learns (status, bytes).
   */
  tryCandidate(
    candidate: Candidate,
    signal: AbortSignal,
    slowDownRetries: number,
    span: Span,
  ): Promise<CandidateTry<T>>;
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

export type PlanResult<T> =
  | { ok: true; outcome: T; candidate: Candidate; progress: PlanProgress }
  | {
      ok: false;
      reason: Reason;
      transient: boolean;
      message: string;
      retryAt?: number;
      progress: PlanProgress;
    };

const METADATA_MAX_BYTES = 8 * 1024 * 1024;

/** Warnings worth logging once at start (a resolver that cannot run with this configuration). */
export function resolverWarnings(config: Config, settings: ResolverSettings): string[] {
  const used = new Set(config.resolvers.tiers.flat());
  const out: string[] = [];
  if (used.has("unpaywall") && config.resolvers.unpaywall.enabled && !settings.email)
    out.push(
      "Unpaywall is disabled: set contact_email (or DOCSTOKG_CONTACT_EMAIL / UNPAYWALL_EMAIL) to use it",
    );
  if (used.has("openalex") && config.resolvers.openalex.enabled && !settings.openalexApiKey)
    out.push("OpenAlex is disabled: set resolvers.openalex.api_key (or OPENALEX_API_KEY) to use it");
  if (used.has("core") && config.resolvers.core.enabled && !settings.coreApiKey)
    out.push("CORE is disabled: set resolvers.core.api_key (or CORE_API_KEY) to use it");
  return out;
}

function enabled(config: Config, name: ResolverName): boolean {
  return (config.resolvers as unknown as Record<string, { enabled?: boolean }>)[name]?.enabled !== false;
}

// Which failure explains a job best when nothing was obtained: the most specific first.
const PERMANENT_RANK: Reason[] = [
  "blocked",
  "robots_disallowed",
  "forbidden",
  "too_large",
  "not_pdf",
  "html_only",
  "url_refused",
  "not_found",
];
const TRANSIENT_RANK: Reason[] = [
  "rate_limited",
  "breaker_open",
  "timeout",
  "conn_error",
  "tls_error",
  "truncated",
];

function rankOf(reason: Reason, ranks: Reason[]): number {
  const i = ranks.indexOf(reason);
  return i < 0 ? ranks.length : i;
}

/** Run the plan for one work; `saved` is the progress persisted by an earlier attempt (or none). */
export async function runPlan<T>(
  work: ResolvableWork,
  deps: PlanDeps<T>,
  saved?: unknown,
): Promise<PlanResult<T>> {
  const plan = new Plan(work, deps, saved === undefined ? emptyProgress() : resumeProgress(saved));
  return plan.run();
}

class Plan<T> {
  private readonly progress: PlanProgress;
  private readonly byKey = new Map<string, CandidateRecord>();
  private readonly scrapedPages = new Set<string>();
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private readonly deadline: number;
  private readonly tiers: ResolverName[][];
  private readonly landingTier: number;
  private winner?: { outcome: T; candidate: Candidate };
  private tried = 0;
  private budgetHit = false;
  private cancelled = false;
  private ids: ResolvableWork;
  /** Workers waiting for a candidate, a resolver to finish or the job to stop. */
  private waiters: (() => void)[] = [];
  private readonly tracer: Tracer;
  /** The running tier's span (tiers run one after another), parent of its requests' spans. */
  private tierSpan?: Span;

  constructor(
    work: ResolvableWork,
    private readonly deps: PlanDeps<T>,
    progress: PlanProgress,
  ) {
    this.progress = progress;
    this.now = deps.now ?? Date.now;
    this.deadline = this.now() + deps.config.download.job_budget_s * 1000;
    for (const c of progress.candidates) {
      this.byKey.set(c.key, c);
      if (c.kind === "landing" && c.state === "scraped") {
        this.scrapedPages.add(c.key);
        if (c.final_url) this.scrapedPages.add(candidateKey(c.final_url));
      }
    }
    this.ids = { ...work, ...progress.derived, ...definedIds(work) };
    this.tiers = deps.config.resolvers.tiers
      .map((tier) => tier.filter((name) => enabled(deps.config, name)))
      .filter((tier) => tier.length > 0);
    this.landingTier = this.tiers.findIndex((tier) => tier.includes("landing"));
    this.tracer = deps.tracer ?? noopTracer;
  }

  async run(): Promise<PlanResult<T>> {
    const onCancel = () => {
      this.cancelled = true;
      this.abort.abort();
    };
    if (this.deps.signal?.aborted) onCancel();
    this.deps.signal?.addEventListener("abort", onCancel, { once: true });
    this.abort.signal.addEventListener("abort", () => this.wake(), { once: true });
    const timer = setTimeout(
      () => {
        this.budgetHit = true;
        this.abort.abort();
      },
      Math.max(0, this.deadline - this.now()),
    );
    try {
      for (let t = 0; t < this.tiers.length && !this.stopped(); t++) {
        const names = this.tiers[t] ?? [];
        const attributes = { tier: t + 1, resolvers: names.join(",") };
        this.tierSpan = this.tracer.startSpan(`tier ${t + 1}`, { parent: this.deps.traceParent, attributes });
        try {
          await this.runTier(t, names);
        } finally {
          this.tierSpan.set({ obtained: this.winner !== undefined }).end();
        }
        this.deps.onProgress?.(this.progress);
      }
    } finally {
      clearTimeout(timer);
      this.deps.signal?.removeEventListener("abort", onCancel);
    }
    return this.result();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private stopped(): boolean {
    return this.winner !== undefined || this.cancelled || this.budgetHit || this.abort.signal.aborted;
  }

  // ---------------------------------------------------------------------------------------------
  // One tier: resolvers in parallel, candidates tried as they arrive by a small pool of workers.

  private async runTier(tier: number, names: ResolverName[]): Promise<void> {
    const queue: CandidateRecord[] = [];
    let resolversLeft = 0;
    let busy = 0;
    const enqueue = (rec: CandidateRecord) => {
      queue.push(rec);
      this.wake();
    };
    // Candidates kept from an earlier attempt, and landing pages deferred to this tier.
    for (const rec of this.progress.candidates)
      if (rec.state === "pending" && this.scheduledTier(rec) === tier) enqueue(rec);

    const addSeeds = (
      resolver: ResolverName,
      seeds: CandidateSeed[],
      extra: Partial<CandidateRecord> = {},
    ) => {
      let added = 0;
      for (const seed of seeds) {
        const rec = this.add({ ...seed, resolver, tier, provenance: seed.provenance ?? {} }, extra);
        if (!rec) continue;
        added++;
        if (this.scheduledTier(rec) === tier) enqueue(rec);
      }
      return added;
    };

    const resolverTasks = names.map(async (name) => {
      resolversLeft++;
      try {
        if (name === "wayback") await this.askWayback(addSeeds);
        else await this.askResolver(name, addSeeds);
      } finally {
        resolversLeft--;
        this.wake();
      }
    });

    // With a version preference, nothing is tried before every resolver of the tier has answered:
    // the preferred version may come from the slowest one.
    const prefer = this.deps.config.resolvers.prefer_version;
    const next = (): CandidateRecord | undefined => {
      if (prefer !== "any" && resolversLeft > 0) return undefined;
      const at = nextIndex(queue, prefer);
      return at >= 0 ? queue.splice(at, 1)[0] : undefined;
    };
    const worker = async () => {
      for (;;) {
        if (this.stopped()) return;
        const rec = next();
        if (!rec) {
          if (resolversLeft === 0 && busy === 0) {
            this.wake();
            return;
          }
          await new Promise<void>((resolve) => this.waiters.push(resolve));
          continue;
        }
        if (rec.state !== "pending") continue;
        const listing = this.deps.listOnly;
        if (listing && (rec.kind === "pdf" || !listing.scrapeLanding)) continue;
        if (this.tried >= this.deps.config.download.max_candidates || this.now() >= this.deadline) {
          // No new tries; tries in flight may still win (the time budget's timer aborts them).
          this.budgetHit = true;
          this.wake();
          return;
        }
        this.tried++;
        busy++;
        const span = this.tracer.startSpan(rec.kind === "pdf" ? "download" : "landing", {
          parent: this.tierSpan,
          kind: "client",
          attributes: { resolver: rec.resolver, host: hostOf(rec.url), tier: tier + 1 },
        });
        try {
          if (rec.kind === "pdf") await this.tryPdf(rec, tier, enqueue, span);
          else await this.scrapeLanding(rec, tier, enqueue, span);
        } catch (e) {
          // A bug below must cost this candidate, not the job's other work.
          if (!this.abort.signal.aborted) fail(rec, "conn_error", e instanceof Error ? e.message : String(e));
        } finally {
          busy--;
          endCandidateSpan(span, rec);
          this.wake();
        }
      }
    };
    const workers = Array.from(
      { length: Math.max(1, this.deps.config.resolvers.candidate_concurrency) },
      worker,
    );
    await Promise.all([...resolverTasks, ...workers]);
  }

  /** Landing pages wait for the tier holding `landing` (the DOI resolver's page is scraped at once). */
  private scheduledTier(rec: CandidateRecord): number {
    if (rec.kind === "pdf" || rec.resolver === "doi" || rec.resolver === "wayback") return rec.tier;
    if (this.landingTier < 0) return -1;
    return Math.max(rec.tier, this.landingTier);
  }

  private add(candidate: Candidate, extra: Partial<CandidateRecord> = {}): CandidateRecord | undefined {
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

  // ---------------------------------------------------------------------------------------------
  // Resolvers.

  private async askResolver(
    name: Exclude<ResolverName, "wayback">,
    addSeeds: (r: ResolverName, s: CandidateSeed[], extra?: Partial<CandidateRecord>) => number,
  ): Promise<void> {
    const previous = this.progress.resolvers[name];
    if (previous?.state === "settled") {
      // Asked before: its candidates are in the progress; derived ids may still feed `direct`.
      return;
    }
    const resolver = RESOLVERS[name];
    if (resolver.kind === "static") {
      const found = addSeeds(name, resolver.seeds(this.ids, this.deps.settings));
      this.progress.resolvers[name] = { state: "settled", found };
      return;
    }
    const req = resolver.request(this.ids, this.deps.settings);
    if (isSkip(req)) {
      this.progress.resolvers[name] = { state: "skipped", note: req.skip, found: 0 };
      return;
    }
    const spent = await this.quotaSpent(name);
    if (spent) {
      this.progress.resolvers[name] = spent;
      return;
    }
    const answer = await this.fetchJson(name, req, (body) => resolver.map(body, this.ids));
    if (!answer) return; // aborted: the job is over, nothing learned
    const found = addSeeds(name, answer.mapping.candidates);
    const fromIds = this.learn(answer.mapping.derived, name, addSeeds);
    this.progress.resolvers[name] = record(answer, found + fromIds);
  }

  /** Merge identifiers a resolver found; new arXiv ids/PMCIDs become `direct` candidates. */
  private learn(
    derived: DerivedIds,
    via: ResolverName,
    addSeeds: (r: ResolverName, s: CandidateSeed[], extra?: Partial<CandidateRecord>) => number,
  ): number {
    const fresh: DerivedIds = {};
    for (const k of ["pmcid", "arxiv", "pmid"] as const) {
      const value = derived[k];
      if (value && !this.ids[k]) {
        fresh[k] = value;
        this.ids = { ...this.ids, [k]: value };
        this.progress.derived[k] = value;
      }
    }
    if (!enabled(this.deps.config, "direct") || (!fresh.arxiv && !fresh.pmcid)) return 0;
    return addSeeds("direct", idCandidates(fresh, this.deps.settings, via));
  }

  /**
   * The record of a resolver whose daily quota is spent: under `wait` it is unsettled until the reset
   * (a job with nothing else wrong goes back to the queue until then, without an attempt counted, as
   * for any politeness wait); under `skip` the job goes on without it.
   */
  private async quotaSpent(name: ResolverName): Promise<ResolverRecord | undefined> {
    const verdict = await this.deps.quota?.check(name);
    if (!verdict || verdict.ok) return undefined;
    if (verdict.whenExhausted === "skip")
      return { state: "skipped", note: `${verdict.why} (when_exhausted = skip)`, found: 0 };
    return {
      state: "unsettled",
      reason: "rate_limited",
      note: verdict.why,
      retryAt: verdict.until,
      found: 0,
    };
  }

  private async askWayback(
    addSeeds: (r: ResolverName, s: CandidateSeed[], extra?: Partial<CandidateRecord>) => number,
  ): Promise<void> {
    // The archive's lookups are counted under `wayback`; its quota is checked once per job.
    const spent = await this.quotaSpent("wayback");
    if (spent) {
      this.progress.resolvers.wayback = spent;
      return;
    }
    delete this.progress.resolvers.wayback;
    const max = this.deps.config.resolvers.wayback.max_lookups;
    // Failed PDFs first (the archive may hold the very file), then dead landing pages, then pages
    // that were scraped without success.
    const rank = (r: CandidateRecord) =>
      r.kind === "pdf" && r.state === "failed"
        ? 0
        : r.state === "failed"
          ? 1
          : r.state === "scraped"
            ? 2
            : -1;
    // A URL our own gate refused (private address, credentials) is never sent to the archive.
    const inputs = this.progress.candidates
      .filter((r) => r.resolver !== "wayback" && r.reason !== "url_refused" && rank(r) >= 0)
      .sort((a, b) => rank(a) - rank(b))
      .map((r) => ({ url: r.url, kind: r.kind }));
    await Promise.all(
      inputs.slice(0, max).map(async ({ url, kind }) => {
        const key = `wayback ${url}`;
        if (this.progress.resolvers[key]?.state === "settled") return;
        const answer = await this.fetchJson("wayback", waybackRequest(url, this.deps.settings), (body) =>
          mapWayback(body, url, kind, this.deps.settings),
        );
        if (!answer) return;
        const found = addSeeds("wayback", answer.mapping.candidates);
        this.progress.resolvers[key] = record(answer, found);
      }),
    );
  }

  /** `requestJson` in a `resolver <name>` span: host, status, bytes, reason, candidates found. */
  private async fetchJson(
    name: ResolverName,
    req: ResolverRequest,
    map: (body: unknown) => ResolverMapping,
  ): Promise<ResolverAnswer | undefined> {
    const span = this.tracer.startSpan(`resolver ${name}`, {
      parent: this.tierSpan,
      kind: "client",
      attributes: { resolver: name, host: hostOf(req.url) },
    });
    let answer: ResolverAnswer | undefined;
    try {
      answer = await this.requestJson(name, req, map, span);
      return answer;
    } finally {
      if (!answer) span.set({ reason: "cancelled" });
      else {
        span.set({ reason: answer.reason ?? "ok", found: answer.mapping.candidates.length });
        if (answer.reason) span.fail(answer.reason);
      }
      span.end();
    }
  }

  /** Ask a metadata API and map its answer; undefined when the job was aborted meanwhile. */
  private async requestJson(
    name: ResolverName,
    req: ResolverRequest,
    map: (body: unknown) => ResolverMapping,
    span: Span,
  ): Promise<ResolverAnswer | undefined> {
    const signal = this.abort.signal;
    try {
      // The resolver's concurrency limit is the politeness gate's (one slot per request in flight).
      const res = await this.deps.http.request({
        url: req.url,
        method: req.method,
        body: req.body,
        role: "metadata",
        resolver: name,
        headers: { accept: "application/json", ...req.headers },
        signal,
        ...(req.backPressure ? { backPressure: req.backPressure } : {}),
      });
      // A request that went out counts against the resolver's quota (a cache hit or a refusal by
      // this process's limiter sent nothing).
      if (res.ok ? !res.response.fromCache : res.status !== undefined)
        this.deps.quota?.record(
          name,
          res.ok ? { status: res.response.status, headers: res.response.headers } : { status: res.status },
        );
      span.set({ status: res.ok ? res.response.status : res.status });
      if (signal.aborted) {
        if (res.ok) await discard(res.response);
        return undefined;
      }
      if (!res.ok) {
        const state = isTransient(res.reason) ? "unsettled" : "settled";
        return {
          state,
          reason: res.reason,
          note: redactText(res.message),
          retryAt: res.retryAt,
          mapping: { candidates: [], derived: {} },
        };
      }
      const body = await readBounded(res.response, METADATA_MAX_BYTES);
      span.set({ bytes: body.bytes.length });
      if (body.truncated) return malformed(`answer larger than ${METADATA_MAX_BYTES} bytes`);
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(body.bytes));
      } catch {
        return malformed("answer is not JSON");
      }
      const mapping = map(json);
      return { state: "settled", mapping, note: mapping.note };
    } catch (e) {
      if (signal.aborted) return undefined;
      if (e instanceof MalformedResponse) return malformed(e.message);
      return {
        state: "unsettled",
        reason: "conn_error",
        note: redactText(e instanceof Error ? e.message : String(e)),
        mapping: { candidates: [], derived: {} },
      };
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Candidates.

  private slowDownRetriesLeft(rec: CandidateRecord): number {
    return Math.max(0, this.deps.config.download.retries - (rec.slow_downs ?? 0));
  }

  private async tryPdf(
    rec: CandidateRecord,
    tier: number,
    enqueue: (r: CandidateRecord) => void,
    span: Span,
  ): Promise<void> {
    const signal = this.abort.signal;
    let res: CandidateTry<T>;
    try {
      res = await this.deps.tryCandidate(publicCandidate(rec), signal, this.slowDownRetriesLeft(rec), span);
    } catch (e) {
      if (signal.aborted) return; // a sibling won or the job ended: leave it pending
      res = { ok: false, reason: "conn_error", message: e instanceof Error ? e.message : String(e) };
    }
    if (res.ok) {
      rec.state = "ok";
      if (!this.winner) {
        this.winner = { outcome: res.outcome, candidate: publicCandidate(rec) };
        this.abort.abort(); // siblings and resolvers still running are no longer needed
      }
      return;
    }
    if (signal.aborted && !this.winner && (res.reason === "cancelled" || this.cancelled)) return;
    if (this.winner) return;
    countSlowDowns(rec, res.slowDowns);
    fail(rec, res.reason, res.message, res.retryAt);
    // An HTML page where a PDF was expected is scraped like a landing page, one level deep.
    if (res.html && rec.depth === 0) {
      const found = await this.scrapeText(rec, res.html.text, res.html.url, tier, enqueue, 1);
      if (found === 0 && rec.reason === "not_pdf") rec.reason = "html_only";
    }
  }

  private async scrapeLanding(
    rec: CandidateRecord,
    tier: number,
    enqueue: (r: CandidateRecord) => void,
    span: Span,
  ): Promise<void> {
    if (this.scrapedPages.has(rec.key)) {
      rec.state = "scraped";
      rec.message = "page already scraped for this job";
      return;
    }
    const signal = this.abort.signal;
    const res = await this.deps.http.request({
      url: rec.url,
      role: "landing",
      resolver: rec.resolver,
      signal,
      slowDownRetries: this.slowDownRetriesLeft(rec),
    });
    span.set({ status: res.ok ? res.response.status : res.status });
    if (signal.aborted) {
      if (res.ok) await discard(res.response);
      return;
    }
    if (!res.ok) {
      countSlowDowns(rec, res.slowDowns);
      fail(rec, res.reason, res.message, res.retryAt);
      return;
    }
    const response = res.response;
    rec.final_url = response.url;
    const finalKey = candidateKey(response.url);
    if (this.scrapedPages.has(finalKey) && finalKey !== rec.key) {
      await discard(response);
      rec.state = "scraped";
      rec.message = `same page as an earlier landing page (${response.url})`;
      return;
    }
    let body: { bytes: Uint8Array; truncated: boolean };
    try {
      body = await readBounded(response, this.deps.config.resolvers.landing.max_page_bytes);
      span.set({ bytes: body.bytes.length });
    } catch (e) {
      if (signal.aborted) return;
      fail(rec, "conn_error", e instanceof Error ? e.message : String(e));
      return;
    }
    // A "landing page" that is the PDF itself: try it as a PDF candidate.
    if (startsWithPdf(body.bytes)) {
      rec.kind = "pdf";
      enqueue(rec);
      return;
    }
    this.scrapedPages.add(rec.key);
    this.scrapedPages.add(finalKey);
    const text = new TextDecoder().decode(body.bytes);
    const found = await this.scrapeText(rec, text, response.url, tier, enqueue, 0);
    if (found === 0) {
      if (rec.state === "pending") fail(rec, "html_only", "no PDF link on the page");
    } else rec.state = "scraped";
  }

  /** Scrape an HTML page for PDF links and queue them; returns how many new candidates it added. */
  private async scrapeText(
    page: CandidateRecord,
    html: string,
    pageUrl: string,
    tier: number,
    enqueue: (r: CandidateRecord) => void,
    depth: number,
  ): Promise<number> {
    const cfg = this.deps.config.resolvers;
    // A Wayback capture in `id_` form carries the original page's links: resolve them against the
    // original URL and fetch them from the archive too.
    const archived = page.resolver === "wayback" ? page.provenance : undefined;
    const base = archived?.original_url && archived.timestamp ? archived.original_url : pageUrl;
    let links: { url: string; found_by: string }[];
    try {
      links = await scrapeLandingPage(html, base, cfg.landing.max_links);
    } catch {
      return 0;
    }
    let added = 0;
    for (const link of links) {
      const url =
        archived?.timestamp !== undefined
          ? `${cfg.wayback.capture_base_url.replace(/\/+$/, "")}/web/${archived.timestamp}id_/${link.url}`
          : link.url;
      const resolver: ResolverName =
        page.resolver === "doi" || page.resolver === "wayback" ? page.resolver : "landing";
      const rec = this.add(
        {
          url,
          kind: "pdf",
          resolver,
          tier,
          provenance: { ...page.provenance, via: page.url, found_by: link.found_by },
        },
        { depth },
      );
      if (!rec) continue;
      added++;
      enqueue(rec);
    }
    return added;
  }

  // ---------------------------------------------------------------------------------------------
  // The verdict.

  private result(): PlanResult<T> {
    const progress = this.progress;
    if (this.winner) return { ok: true, ...this.winner, progress };
    if (this.cancelled)
      return { ok: false, reason: "cancelled", transient: true, message: "job cancelled", progress };
    const failed = progress.candidates.filter((c) => c.state === "failed" && c.reason);
    const transientCandidates = failed.filter((c) => c.transient);
    const unsettled = Object.entries(progress.resolvers).filter(([, r]) => r.state === "unsettled");
    if (transientCandidates.length > 0 || unsettled.length > 0) {
      const reasons: { reason: Reason; retryAt?: number; what: string }[] = [
        ...transientCandidates.map((c) => ({ reason: c.reason as Reason, retryAt: c.retryAt, what: c.url })),
        ...unsettled.map(([name, r]) => ({
          reason: (r.reason ?? "conn_error") as Reason,
          retryAt: r.retryAt,
          what: name,
        })),
      ];
      reasons.sort((a, b) => rankOf(a.reason, TRANSIENT_RANK) - rankOf(b.reason, TRANSIENT_RANK));
      const best = reasons[0] as (typeof reasons)[number];
      const retryAts = reasons.map((r) => r.retryAt).filter((x): x is number => x !== undefined);
      return {
        ok: false,
        reason: best.reason,
        transient: true,
        message: `${reasons.length} transient failure(s), e.g. ${best.reason} from ${best.what}`,
        retryAt: retryAts.length ? Math.min(...retryAts) : undefined,
        progress,
      };
    }
    if (this.budgetHit)
      return {
        ok: false,
        reason: "budget_exhausted",
        transient: false,
        message: `gave up after ${this.tried} candidate(s) (download.max_candidates ${this.deps.config.download.max_candidates}, download.job_budget_s ${this.deps.config.download.job_budget_s})`,
        progress,
      };
    if (progress.candidates.length === 0)
      return {
        ok: false,
        reason: "no_candidates",
        transient: false,
        message: "no resolver found a candidate URL",
        progress,
      };
    const permanent = failed.map((c) => c.reason as Reason);
    permanent.sort((a, b) => rankOf(a, PERMANENT_RANK) - rankOf(b, PERMANENT_RANK));
    const reason = permanent[0] ?? "no_candidates";
    return {
      ok: false,
      reason,
      transient: false,
      message: `${failed.length} candidate(s) failed; best reason ${reason}`,
      progress,
    };
  }
}

/**
 * 429/503 answers are remembered with the candidate across attempts: a job released while a host
 * asked for a long wait continues with the retries it had left, so a host that always answers 503
 * cannot keep a job cycling forever.
 */
function countSlowDowns(rec: CandidateRecord, n: number | undefined): void {
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

function hostOf(url: string): string | undefined {
  try {
    return hostKey(url);
  } catch {
    return undefined;
  }
}

/** A candidate's span ends with what became of it: obtained, scraped, failed (why) or left pending. */
function endCandidateSpan(span: Span, rec: CandidateRecord): void {
  span.set({ state: rec.state, reason: rec.reason });
  if (rec.state === "failed" && rec.reason) span.fail(rec.reason);
  span.end();
}

function fail(rec: CandidateRecord, reason: Reason, message?: string, retryAt?: number): void {
  rec.state = "failed";
  rec.reason = reason;
  rec.message = message;
  rec.transient = isTransient(reason) || undefined;
  rec.retryAt = retryAt;
}

function record(answer: ResolverAnswer, found: number): ResolverRecord {
  const r: ResolverRecord = { state: answer.state, found };
  if (answer.reason) r.reason = answer.reason;
  if (answer.note) r.note = answer.note;
  if (answer.retryAt !== undefined) r.retryAt = answer.retryAt;
  return r;
}

function malformed(note: string): ResolverAnswer {
  return { state: "settled", reason: "malformed", note, mapping: { candidates: [], derived: {} } };
}

function publicCandidate(rec: CandidateRecord): Candidate {
  return { url: rec.url, kind: rec.kind, resolver: rec.resolver, tier: rec.tier, provenance: rec.provenance };
}

function definedIds(work: ResolvableWork): Partial<ResolvableWork> {
  const out: Partial<ResolvableWork> = {};
  for (const k of ["doi", "pmid", "pmcid", "arxiv"] as const) if (work[k]) out[k] = work[k];
  return out;
}

function startsWithPdf(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 1024));
  return head.includes("%PDF-");
}
