// Daily quotas per source (SPEC 16), the pure part: UTC days and their reset, the policy a source's
// configuration sets, whether a day's usage leaves room, and what a source's budget headers say
// about exhaustion (OpenAlex announces its budget in USD). src/quota/gate.ts applies them.
import type { Config } from "../config/schema.ts";
import { budgetHeaders } from "../openalex/query.ts";
import type { UsageRow } from "../store/usage.ts";

export type WhenExhausted = "wait" | "skip";

export interface QuotaPolicy {
  /** Requests per UTC day; undefined = no request limit. */
  dailyLimit?: number;
  whenExhausted: WhenExhausted;
}

export type QuotaVerdict =
  | { ok: true }
  | { ok: false; until: number; whenExhausted: WhenExhausted; why: string };

const DAY_MS = 86_400_000;

/** The UTC day of `now`, YYYY-MM-DD: the key quotas count under. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** When the UTC day of `now` ends and every request quota starts again. */
export function nextUtcMidnight(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
}

/** The quota settings of one source, from `resolvers.<name>` (no limit for an unknown name). */
export function quotaPolicy(config: Pick<Config, "resolvers">, source: string): QuotaPolicy {
  const r = (
    config.resolvers as unknown as Record<string, { daily_limit?: number; when_exhausted?: WhenExhausted }>
  )[source];
  return { dailyLimit: r?.daily_limit, whenExhausted: r?.when_exhausted ?? "wait" };
}

/** Whether `source` may be asked now, given today's usage row. */
export function quotaVerdict(
  source: string,
  row: UsageRow | null,
  policy: QuotaPolicy,
  now: number,
): QuotaVerdict {
  if (row && row.exhausted_until > now)
    return {
      ok: false,
      until: row.exhausted_until,
      whenExhausted: policy.whenExhausted,
      why: `${source} announced its budget spent until ${new Date(row.exhausted_until).toISOString()}`,
    };
  if (policy.dailyLimit !== undefined && row && row.requests >= policy.dailyLimit) {
    const until = nextUtcMidnight(now);
    return {
      ok: false,
      until,
      whenExhausted: policy.whenExhausted,
      why: `daily_limit of ${policy.dailyLimit} ${source} requests spent until ${new Date(until).toISOString()}`,
    };
  }
  return { ok: true };
}

/** What one answer's budget headers add to the day: its cost, the announced budget, exhaustion. */
export function budgetOfAnswer(
  headers: Headers | undefined,
  now: number,
): { costUsd?: number; remainingUsd?: number; limitUsd?: number; exhaustedUntil?: number } {
  if (!headers) return {};
  const b = budgetHeaders(headers);
  const spent = b.remainingUsd !== undefined && b.remainingUsd <= 0;
  return {
    costUsd: b.costUsd,
    remainingUsd: b.remainingUsd,
    limitUsd: b.limitUsd,
    exhaustedUntil: spent
      ? b.resetS !== undefined
        ? now + b.resetS * 1000
        : nextUtcMidnight(now)
      : undefined,
  };
}
