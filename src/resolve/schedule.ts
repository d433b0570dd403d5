// The scheduler of the tier plan: tiers one after another, the resolvers of a tier asked in parallel
// while a small pool of workers tries candidates as they arrive (PDFs before landing pages, or in
// version order under `prefer_version`), within the job's budget of tries and time. The first valid
// file aborts everything else. Asking is ask-resolvers.ts, scraping scrape.ts, the verdict verdict.ts.
import type { ResolverName } from "../config/schema.ts";
import type { DownloadResult } from "../download/types.ts";
import type { Span } from "../telemetry/tracing.ts";
import { askResolver, askWayback } from "./ask-resolvers.ts";
import { countSlowDowns, enabled, fail, hostOf, type PlanState, publicCandidate } from "./plan-state.ts";
import type { CandidateRecord } from "./progress.ts";
import { type Enqueue, scrapeLanding, scrapeText } from "./scrape.ts";
import type { CandidateSeed } from "./types.ts";
import { nextIndex } from "./version-order.ts";

export class Scheduler {
  private readonly tiers: ResolverName[][];
  private readonly landingTier: number;
  /** Workers waiting for a candidate, a resolver to finish or the job to stop. */
  private waiters: (() => void)[] = [];

  constructor(private readonly s: PlanState) {
    this.tiers = s.config.resolvers.tiers
      .map((tier) => tier.filter((name) => enabled(s.config, name)))
      .filter((tier) => tier.length > 0);
    this.landingTier = this.tiers.findIndex((tier) => tier.includes("landing"));
  }

  /** Run the tiers until a file is won, the job is cancelled or the budget is spent. */
  async run(): Promise<void> {
    const s = this.s;
    const onCancel = () => {
      s.cancelled = true;
      s.abort.abort();
    };
    if (s.deps.signal?.aborted) onCancel();
    s.deps.signal?.addEventListener("abort", onCancel, { once: true });
    s.abort.signal.addEventListener("abort", () => this.wake(), { once: true });
    const timer = setTimeout(
      () => {
        s.budgetHit = true;
        s.abort.abort();
      },
      Math.max(0, s.deadline - s.now()),
    );
    try {
      for (let t = 0; t < this.tiers.length && !s.stopped(); t++) {
        const names = this.tiers[t] ?? [];
        const attributes = { tier: t + 1, resolvers: names.join(",") };
        s.tierSpan = s.tracer.startSpan(`tier ${t + 1}`, { parent: s.deps.traceParent, attributes });
        try {
          await this.runTier(t, names);
        } finally {
          s.tierSpan.set({ obtained: s.winner !== undefined }).end();
        }
        s.deps.onProgress?.(s.progress);
      }
    } finally {
      clearTimeout(timer);
      s.deps.signal?.removeEventListener("abort", onCancel);
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  // One tier: resolvers in parallel, candidates tried as they arrive by a small pool of workers.
  private async runTier(tier: number, names: ResolverName[]): Promise<void> {
    const s = this.s;
    const queue: CandidateRecord[] = [];
    let resolversLeft = 0;
    let busy = 0;
    const enqueue: Enqueue = (rec) => {
      queue.push(rec);
      this.wake();
    };
    // Candidates kept from an earlier attempt, and landing pages deferred to this tier.
    for (const rec of s.progress.candidates)
      if (rec.state === "pending" && this.scheduledTier(rec) === tier) enqueue(rec);

    const addSeeds = (
      resolver: ResolverName,
      seeds: CandidateSeed[],
      extra: Partial<CandidateRecord> = {},
    ) => {
      let added = 0;
      for (const seed of seeds) {
        const rec = s.add({ ...seed, resolver, tier, provenance: seed.provenance ?? {} }, extra);
        if (!rec) continue;
        added++;
        if (this.scheduledTier(rec) === tier) enqueue(rec);
      }
      return added;
    };

    const resolverTasks = names.map(async (name) => {
      resolversLeft++;
      try {
        if (name === "wayback") await askWayback(s, addSeeds);
        else await askResolver(s, name, addSeeds);
      } finally {
        resolversLeft--;
        this.wake();
      }
    });

    // With a version preference, nothing is tried before every resolver of the tier has answered:
    // the preferred version may come from the slowest one.
    const prefer = s.config.resolvers.prefer_version;
    const next = (): CandidateRecord | undefined => {
      if (prefer !== "any" && resolversLeft > 0) return undefined;
      const at = nextIndex(queue, prefer);
      return at >= 0 ? queue.splice(at, 1)[0] : undefined;
    };
    const worker = async () => {
      for (;;) {
        if (s.stopped()) return;
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
        const listing = s.deps.listOnly;
        if (listing && (rec.kind === "pdf" || !listing.scrapeLanding)) continue;
        if (s.tried >= s.config.download.max_candidates || s.now() >= s.deadline) {
          // No new tries; tries in flight may still win (the time budget's timer aborts them).
          s.budgetHit = true;
          this.wake();
          return;
        }
        s.tried++;
        busy++;
        const span = s.tracer.startSpan(rec.kind === "pdf" ? "download" : "landing", {
          parent: s.tierSpan,
          kind: "client",
          attributes: { resolver: rec.resolver, host: hostOf(rec.url), tier: tier + 1 },
        });
        try {
          if (rec.kind === "pdf") await this.tryPdf(rec, tier, enqueue, span);
          else await scrapeLanding(s, rec, tier, enqueue, span);
        } catch (e) {
          // A bug below must cost this candidate, not the job's other work.
          if (!s.abort.signal.aborted) fail(rec, "conn_error", e instanceof Error ? e.message : String(e));
        } finally {
          busy--;
          endCandidateSpan(span, rec);
          this.wake();
        }
      }
    };
    const workers = Array.from({ length: Math.max(1, s.config.resolvers.candidate_concurrency) }, worker);
    await Promise.all([...resolverTasks, ...workers]);
  }

  /** Landing pages wait for the tier holding `landing` (the DOI resolver's page is scraped at once). */
  private scheduledTier(rec: CandidateRecord): number {
    if (rec.kind === "pdf" || rec.resolver === "doi" || rec.resolver === "wayback") return rec.tier;
    if (this.landingTier < 0) return -1;
    return Math.max(rec.tier, this.landingTier);
  }

  /** Download one PDF candidate; the first success wins the job, a failure is recorded with it. */
  private async tryPdf(rec: CandidateRecord, tier: number, enqueue: Enqueue, span: Span): Promise<void> {
    const s = this.s;
    const tryCandidate = s.deps.tryCandidate;
    if (!tryCandidate) return; // listing only (the worker does not get here then)
    const signal = s.abort.signal;
    let res: DownloadResult;
    try {
      res = await tryCandidate(publicCandidate(rec), signal, s.slowDownRetriesLeft(rec), span);
    } catch (e) {
      if (signal.aborted) return; // a sibling won or the job ended: leave it pending
      fail(rec, "conn_error", e instanceof Error ? e.message : String(e));
      return;
    }
    if (res.ok) {
      rec.state = "ok";
      if (!s.winner) {
        s.winner = { outcome: res, candidate: publicCandidate(rec) };
        s.abort.abort(); // siblings and resolvers still running are no longer needed
      }
      return;
    }
    if (signal.aborted && !s.winner && (res.reason === "cancelled" || s.cancelled)) return;
    if (s.winner) return;
    countSlowDowns(rec, res.slowDowns);
    fail(rec, res.reason, res.message, res.retryAt);
    // An HTML page where a PDF was expected is scraped like a landing page, one level deep.
    if (res.landing && rec.depth === 0) {
      const found = await scrapeText(s, rec, res.landing.html, res.landing.url, tier, enqueue, 1);
      if (found === 0 && rec.reason === "not_pdf") rec.reason = "html_only";
    }
  }
}

/** A candidate's span ends with what became of it: obtained, scraped, failed (why) or left pending. */
function endCandidateSpan(span: Span, rec: CandidateRecord): void {
  span.set({ state: rec.state, reason: rec.reason });
  if (rec.state === "failed" && rec.reason) span.fail(rec.reason);
  span.end();
}
