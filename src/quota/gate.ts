// Daily quotas per source over the state database: one read before a source is asked, one upsert
// after it answered, shared by every process on the database. Concurrent askers may pass a limit by
// the requests they have in flight at once (a handful), never by more.
import { Database } from "bun:sqlite";
import type { Config } from "../config/schema.ts";
import { detach, type Maybe, mapMaybe } from "../store/maybe.ts";
import { sqliteUsageStore, type UsageRow, type UsageStore } from "../store/usage.ts";
import {
  budgetOfAnswer,
  type QuotaVerdict,
  quotaPolicy,
  quotaVerdict,
  utcDay,
  type WhenExhausted,
} from "./rules.ts";

/** What the plan and the OpenAlex import ask of quotas. */
export interface QuotaGate {
  check(source: string): Maybe<QuotaVerdict>;
  /** One request went out to `source` and was answered (a cache hit or a local refusal is not one). */
  record(source: string, answer: { status?: number; headers?: Headers; costUsd?: number }): void;
}

/** A source's usage today with its limits, for `report` and the status API. */
export interface SourceUsage {
  source: string;
  day: string;
  requests: number;
  daily_limit: number | null;
  cost_usd: number;
  /** The source's own word on its budget (OpenAlex), when it gave one. */
  remaining_usd: number | null;
  limit_usd: number | null;
  /** ISO time until which the source cannot be asked (quota spent), or null. */
  exhausted_until: string | null;
  when_exhausted: WhenExhausted;
}

export class Quotas implements QuotaGate {
  private readonly store: UsageStore;
  constructor(
    store: Database | UsageStore,
    private readonly config: Pick<Config, "resolvers">,
    private readonly now: () => number = Date.now,
    /** Told of a count that could not be written (PostgreSQL: the connection dropped). */
    private readonly onStoreError: (e: unknown) => void = () => {},
  ) {
    this.store = store instanceof Database ? sqliteUsageStore(store) : store;
  }

  check(source: string): Maybe<QuotaVerdict> {
    const now = this.now();
    return mapMaybe(this.store.read(source, utcDay(now)), (row) =>
      quotaVerdict(source, row, quotaPolicy(this.config, source), now),
    );
  }

  record(source: string, answer: { status?: number; headers?: Headers; costUsd?: number }): void {
    const now = this.now();
    const b = budgetOfAnswer(answer.headers, now);
    const written = this.store.add({
      source,
      day: utcDay(now),
      requests: 1,
      costUsd: answer.costUsd ?? b.costUsd ?? 0,
      remainingUsd: b.remainingUsd,
      limitUsd: b.limitUsd,
      exhaustedUntil: b.exhaustedUntil,
      now,
    });
    detach(written, this.onStoreError);
  }
}

/** Today's usage of every source that was asked today or has a daily limit, by source. */
export function sourceUsage(
  db: Database | UsageStore,
  config: Pick<Config, "resolvers">,
  now: number,
): Maybe<SourceUsage[]> {
  const store = db instanceof Database ? sqliteUsageStore(db) : db;
  const day = utcDay(now);
  return mapMaybe(store.ofDay(day), (dayRows) => usageList(dayRows, config, now, day));
}

function usageList(
  dayRows: UsageRow[],
  config: Pick<Config, "resolvers">,
  now: number,
  day: string,
): SourceUsage[] {
  const rows = new Map<string, UsageRow>(dayRows.map((r) => [r.source, r]));
  const names = new Set(rows.keys());
  for (const name of config.resolvers.tiers.flat()) if (quotaPolicy(config, name).dailyLimit) names.add(name);
  return [...names].sort().map((source) => {
    const r = rows.get(source);
    const policy = quotaPolicy(config, source);
    const verdict = quotaVerdict(source, r ?? null, policy, now);
    return {
      source,
      day,
      requests: r?.requests ?? 0,
      daily_limit: policy.dailyLimit ?? null,
      cost_usd: Math.round((r?.cost_usd ?? 0) * 1e6) / 1e6,
      remaining_usd: r?.remaining_usd ?? null,
      limit_usd: r?.limit_usd ?? null,
      exhausted_until: verdict.ok ? null : new Date(verdict.until).toISOString(),
      when_exhausted: policy.whenExhausted,
    };
  });
}
