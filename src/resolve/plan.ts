// The tiered fallback plan (SPEC 5): tiers in configured order, resolvers within a tier in
// parallel, candidates deduplicated by canonical URL and tried as they arrive (PDFs before landing
// pages), the first valid file aborting the rest of the job's work, a per-job budget, and progress
// that a retry resumes from. Downloads are injected (`tryCandidate`) so the plan is the same for
// `fetch`, the runner and tests. Its parts: plan-state.ts (what a run shares), schedule.ts (tiers and
// workers), ask-resolvers.ts, scrape.ts, verdict.ts.
import type { Config } from "../config/schema.ts";
import { type PlanDeps, type PlanResult, PlanState } from "./plan-state.ts";
import { emptyProgress, resumeProgress } from "./progress.ts";
import type { ResolverSettings } from "./resolver.ts";
import { Scheduler } from "./schedule.ts";
import type { ResolvableWork } from "./types.ts";
import { verdict } from "./verdict.ts";

export type { PlanDeps, PlanResult, TryCandidate } from "./plan-state.ts";

/** Run the plan for one work; `saved` is the progress persisted by an earlier attempt (or none). */
export async function runPlan(work: ResolvableWork, deps: PlanDeps, saved?: unknown): Promise<PlanResult> {
  const state = new PlanState(work, deps, saved === undefined ? emptyProgress() : resumeProgress(saved));
  await new Scheduler(state).run();
  return verdict(state);
}

/** Warnings worth logging once at start (a resolver that cannot run with this configuration). */
export function resolverWarnings(config: Pick<Config, "resolvers">, settings: ResolverSettings): string[] {
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
