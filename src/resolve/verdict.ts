// The plan's verdict, pure: the winning file, or the failure that explains the job best — a
// transient one when any candidate or resolver failed transiently (the job is retried at the
// earliest time the hosts asked for), else the budget, else no candidates, else the most specific
// permanent reason.
import type { Config } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";
import type { PlanResult, PlanState } from "./plan-state.ts";
import type { PlanProgress } from "./progress.ts";

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

/** What the plan's run came to (see PlanState for the flags). */
export function verdict(
  s: Pick<PlanState, "progress" | "winner" | "cancelled" | "budgetHit" | "tried" | "config">,
): PlanResult {
  const progress = s.progress;
  if (s.winner) return { ok: true, ...s.winner, progress };
  if (s.cancelled)
    return { ok: false, reason: "cancelled", transient: true, message: "job cancelled", progress };
  return { ...failure(progress, s.budgetHit, s.tried, s.config), progress };
}

function failure(
  progress: PlanProgress,
  budgetHit: boolean,
  tried: number,
  config: Pick<Config, "download">,
) {
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
      ok: false as const,
      reason: best.reason,
      transient: true,
      message: `${reasons.length} transient failure(s), e.g. ${best.reason} from ${best.what}`,
      retryAt: retryAts.length ? Math.min(...retryAts) : undefined,
    };
  }
  if (budgetHit)
    return {
      ok: false as const,
      reason: "budget_exhausted" as const,
      transient: false,
      message: `gave up after ${tried} candidate(s) (download.max_candidates ${config.download.max_candidates}, download.job_budget_s ${config.download.job_budget_s})`,
    };
  if (progress.candidates.length === 0)
    return {
      ok: false as const,
      reason: "no_candidates" as const,
      transient: false,
      message: "no resolver found a candidate URL",
    };
  const permanent = failed.map((c) => c.reason as Reason);
  permanent.sort((a, b) => rankOf(a, PERMANENT_RANK) - rankOf(b, PERMANENT_RANK));
  const reason = permanent[0] ?? "no_candidates";
  return {
    ok: false as const,
    reason,
    transient: false,
    message: `${failed.length} candidate(s) failed; best reason ${reason}`,
  };
}
