// `docstokg plan`, the pure part: from the requests the queued jobs may need of each source (an upper
// bound), that source's configured rate and concurrency, its daily quota and what was used today,
// the time the requests take, the UTC days the quota spreads them over, the cost, and the ETA.

export const DAY_MS = 86_400_000;
/** Assumed time for one metadata request to be answered (bounds a source by its concurrency). */
export const ASSUMED_LATENCY_MS = 500;

export interface SourceLimits {
  source: string;
  host: string;
  /** Milliseconds between two metadata requests to the host (its configured or built-in rate). */
  intervalMs: number;
  /** Requests in flight at once for this source. */
  concurrency: number;
  dailyLimit?: number;
  /** Requests counted today (UTC) in the state database. */
  usedToday: number;
  /** The source cannot be asked before this time (its budget announced spent), epoch ms; 0 = now. */
  blockedUntil: number;
  /** USD per request (OpenAlex lookups by DOI are free). */
  costPerRequestUsd: number;
}

export interface SourcePlan {
  source: string;
  host: string;
  requests: number;
  rate_per_s: number;
  concurrency: number;
  /** Which limit sets the pace: the rate, or the concurrency at ASSUMED_LATENCY_MS per request. */
  bound: "rate" | "concurrency";
  /** Time the requests take at that pace, ignoring quotas. */
  seconds: number;
  daily_limit: number | null;
  /** UTC days the daily limit spreads the requests over (today included); null without a limit. */
  quota_days: number | null;
  cost_usd: number;
  /** When this source's last request can be answered. */
  eta: number;
}

export function planSource(requests: number, l: SourceLimits, now: number): SourcePlan {
  const perConcurrency = ASSUMED_LATENCY_MS / Math.max(1, l.concurrency);
  const bound = l.intervalMs >= perConcurrency ? "rate" : "concurrency";
  const perRequestMs = Math.max(l.intervalMs, perConcurrency);
  const seconds = (requests * perRequestMs) / 1000;
  const start = Math.max(now, l.blockedUntil);
  let eta = start + requests * perRequestMs;
  let quotaDays: number | null = null;
  if (l.dailyLimit !== undefined) {
    const leftToday = start >= nextMidnight(now) ? 0 : Math.max(0, l.dailyLimit - l.usedToday);
    if (requests <= leftToday) quotaDays = requests > 0 ? 1 : 0;
    else {
      const extra = requests - leftToday;
      const extraDays = Math.ceil(extra / l.dailyLimit);
      quotaDays = (leftToday > 0 ? 1 : 0) + extraDays;
      const lastDayRequests = extra - (extraDays - 1) * l.dailyLimit;
      const lastDayStart = Math.max(start, nextMidnight(now)) + (extraDays - 1) * DAY_MS;
      eta = Math.max(eta, lastDayStart + lastDayRequests * perRequestMs);
    }
  }
  return {
    source: l.source,
    host: l.host,
    requests,
    rate_per_s: Math.round((1000 / l.intervalMs) * 1000) / 1000,
    concurrency: l.concurrency,
    bound,
    seconds: Math.round(seconds * 10) / 10,
    daily_limit: l.dailyLimit ?? null,
    quota_days: quotaDays,
    cost_usd: Math.round(requests * l.costPerRequestUsd * 1e6) / 1e6,
    eta,
  };
}

function nextMidnight(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
}

export interface RunForecast {
  generated_at: string;
  /** Jobs queued or in progress that the plan covers. */
  jobs: number;
  sources: (Omit<SourcePlan, "eta"> & { eta: string })[];
  openalex: {
    /** OpenAlex lookups the jobs may make (free singletons). */
    lookups_usd: number;
    /** What the unfinished OpenAlex pulls are estimated to cost still. */
    pulls_usd: number;
    total_usd: number;
  };
  /** When the slowest source is done (sources are asked in parallel); null with nothing to ask. */
  eta: string | null;
  eta_bound_by: string | null;
}

export function forecastRun(
  jobs: number,
  demand: Record<string, number>,
  limits: Record<string, SourceLimits>,
  pullsUsd: number,
  now: number,
): RunForecast {
  const plans = Object.entries(demand)
    .filter(([source, n]) => n > 0 && limits[source])
    .map(([source, n]) => planSource(n, limits[source] as SourceLimits, now))
    .sort((a, b) => b.eta - a.eta || a.source.localeCompare(b.source));
  const slowest = plans[0];
  const lookups = plans.find((p) => p.source === "openalex")?.cost_usd ?? 0;
  return {
    generated_at: new Date(now).toISOString(),
    jobs,
    sources: plans.map((p) => ({ ...p, eta: new Date(p.eta).toISOString() })),
    openalex: {
      lookups_usd: lookups,
      pulls_usd: Math.round(pullsUsd * 1e6) / 1e6,
      total_usd: Math.round((lookups + pullsUsd) * 1e6) / 1e6,
    },
    eta: slowest ? new Date(slowest.eta).toISOString() : null,
    eta_bound_by: slowest?.source ?? null,
  };
}
