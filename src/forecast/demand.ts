// `docstokg plan`, the reading part: which sources the queued jobs may still ask (every enabled API
// resolver whose request the job's identifiers allow and whose answer is not already in its saved
// progress; the archive up to `wayback.max_lookups` per job), and each source's limits from the
// configuration, the host table and today's usage in the state (SQLite or PostgreSQL).
import type { Config, ResolverName } from "../config/schema.ts";
import { hostKey } from "../core/url.ts";
import { estimatePull, pullQuery } from "../openalex/query.ts";
import { createHostTable } from "../politeness/host-table.ts";
import { quotaPolicy, utcDay } from "../quota/rules.ts";
import { RESOLVERS } from "../resolve/registry.ts";
import { isSkip, type ResolverSettings } from "../resolve/resolver.ts";
import type { ResolvableWork } from "../resolve/types.ts";
import type { PullStore } from "../store/pulls.ts";
import type { StateReads } from "../store/reads.ts";
import type { UsageStore } from "../store/usage.ts";
import { forecastRun, type RunForecast, type SourceLimits } from "./forecast.ts";

interface SavedProgress {
  resolvers?: Record<string, { state?: string }>;
  derived?: Partial<ResolvableWork>;
}

function enabledTiers(config: Pick<Config, "resolvers">): ResolverName[] {
  const r = config.resolvers as unknown as Record<string, { enabled?: boolean }>;
  return config.resolvers.tiers.flat().filter((name) => r[name]?.enabled !== false);
}

/** Requests one job may still make per source (upper bound: no early stop on a found file). */
export function jobDemand(
  work: ResolvableWork,
  progress: SavedProgress | null,
  names: readonly ResolverName[],
  config: Pick<Config, "resolvers">,
  settings: ResolverSettings,
  into: Record<string, number>,
): void {
  const ids = { ...work, ...(progress?.derived ?? {}) };
  for (const name of names) {
    if (name === "wayback") {
      into.wayback = (into.wayback ?? 0) + config.resolvers.wayback.max_lookups;
      continue;
    }
    const resolver = RESOLVERS[name];
    if (resolver.kind !== "api") continue;
    if (progress?.resolvers?.[name]?.state === "settled") continue;
    if (isSkip(resolver.request(ids, settings))) continue;
    into[name] = (into[name] ?? 0) + 1;
  }
}

function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Queued jobs read per page: a large queue is never held in memory. */
const PAGE = 5000;

/** What the forecast reads of the state (SQLite or PostgreSQL). */
export interface ForecastState {
  reads: Pick<StateReads, "queuedWorkPage">;
  usage: Pick<UsageStore, "read">;
  pulls: Pick<PullStore, "list">;
}

export async function forecastQueue(
  state: ForecastState,
  config: Pick<Config, "resolvers" | "politeness">,
  settings: ResolverSettings,
  now: number,
): Promise<RunForecast> {
  const names = [...new Set(enabledTiers(config))];
  const demand: Record<string, number> = {};
  let jobs = 0;
  for (let after = 0; ; ) {
    const rows = await state.reads.queuedWorkPage(after, PAGE);
    for (const row of rows) {
      const work = parse(row.artifact) as ResolvableWork | null;
      if (!work) continue;
      jobs++;
      jobDemand(work, parse(row.progress) as SavedProgress | null, names, config, settings, demand);
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]?.id ?? after;
  }
  const table = createHostTable(config, { contactEmail: settings.email, ncbiApiKey: settings.ncbiApiKey });
  const day = utcDay(now);
  const limits: Record<string, SourceLimits> = {};
  const resolvers = config.resolvers as unknown as Record<
    string,
    { base_url: string; max_concurrent?: number }
  >;
  for (const source of Object.keys(demand)) {
    const base = resolvers[source]?.base_url;
    if (!base) continue;
    const host = hostKey(base);
    const policy = table.policyFor(host);
    const usage = await state.usage.read(source, day);
    limits[source] = {
      source,
      host,
      intervalMs: policy.intervalMs.metadata,
      concurrency: Math.min(
        policy.maxConcurrent,
        config.politeness.max_per_resolver,
        resolvers[source]?.max_concurrent ?? Number.POSITIVE_INFINITY,
      ),
      dailyLimit: quotaPolicy(config, source).dailyLimit,
      usedToday: usage?.requests ?? 0,
      blockedUntil: usage && usage.exhausted_until > now ? usage.exhausted_until : 0,
      // Lookups of single works are free of charge (RESOLVERS.md); only lists and searches are billed.
      costPerRequestUsd: 0,
    };
  }
  let pullsUsd = 0;
  for (const p of await state.pulls.list()) {
    if (p.state === "done" || p.count === null) continue;
    pullsUsd += estimatePull(
      p.count,
      pullQuery(p.filter, p.search),
      p.works,
      p.page_cost_usd ?? undefined,
    ).costUsd;
  }
  return forecastRun(jobs, demand, limits, pullsUsd, now);
}
