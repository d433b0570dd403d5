// Per-host state for the status page and metrics: this process's slots plus what the database holds
// (limits after announcements, when each role's next request could go, cool-down, breaker, 429s).
import type { Role } from "../net/types.ts";
import type { BreakerState } from "./breaker.ts";
import { gcraNextAt } from "./gcra.ts";
import type { HostSlots } from "./host-slots.ts";
import { emptyHostRow, type HostRow, type HostStore } from "./host-store.ts";
import { type HostPolicy, ROLES } from "./host-table.ts";
import { rateKeyOf } from "./pacing.ts";
import { formatInterval } from "./rate.ts";

/** One host as the status page shows it. */
export interface HostSnapshot {
  host: string;
  /**
   * Requests in flight from this process / host slots held by every process sharing the database
   * (a slot kept for reuse for 250 ms after its request ended counts as held).
   */
  inFlight: number;
  inFlightAll: number;
  waiting: number;
  limits: {
    maxConcurrent: number;
    burst: number;
    rates: Record<Role, string>;
    intervalMs: Record<Role, number>;
    crawlDelayMs: number;
    source: HostPolicy["source"];
  };
  /** When each role's next request could go without waiting (epoch ms). */
  nextAllowedAt: Record<Role, number>;
  cooldownUntil: number;
  /** `reason`: the failure that last opened it (`timeout`, `conn_error`, `http_502`, …). */
  breaker: { state: BreakerState["phase"]; failures: number; openUntil: number; reason: string | null };
  count429: number;
}

export interface SnapshotSource {
  store: HostStore;
  slots: HostSlots;
  /** The host's limits, tightened by what it announced. */
  policy(host: string, row: HostRow | null): HostPolicy;
}

/** Up to `limit` hosts: the ones this process holds slots of first, then those the database knows. */
export function hostsSnapshot(src: SnapshotSource, now: number, limit: number): HostSnapshot[] {
  const { store, slots } = src;
  const hosts = new Set<string>(slots.hosts());
  for (const h of store.knownHosts(limit)) hosts.add(h);
  return [...hosts].slice(0, limit).map((host) => {
    const row = store.readHost(host) ?? emptyHostRow(host);
    const policy = src.policy(host, row);
    const tats = new Map(store.rates(host).map((r) => [r.role, r.tat]));
    const nextAllowedAt = {} as Record<Role, number>;
    const rates = {} as Record<Role, string>;
    for (const role of ROLES) {
      const k = rateKeyOf(host, role, policy, row.min_interval_ms);
      nextAllowedAt[role] = gcraNextAt(tats.get(k.key) ?? 0, now, k.intervalMs, k.burst);
      rates[role] = formatInterval(policy.intervalMs[role]);
    }
    return {
      host,
      inFlight: slots.inFlight(host),
      inFlightAll: store.liveSlots(host, now),
      waiting: slots.waiting(host),
      limits: {
        maxConcurrent: policy.maxConcurrent,
        burst: policy.burst,
        rates,
        intervalMs: policy.intervalMs,
        crawlDelayMs: row.min_interval_ms,
        source: policy.source,
      },
      nextAllowedAt,
      cooldownUntil: row.cooldown_until,
      breaker: {
        state: row.breaker,
        failures: row.failures,
        openUntil: row.open_until,
        reason: row.breaker_reason,
      },
      count429: row.count_429,
    };
  });
}
