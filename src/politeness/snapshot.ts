// Per-host state for the status page and metrics: this process's slots plus what the database holds
// (limits after announcements, when each role's next request could go, cool-down, breaker, 429s).
import type { Role } from "../net/types.ts";
import { gcraNextAt } from "../store/gcra.ts";
import { emptyHostRow, type HostRow, type HostStateStore } from "../store/host-state.ts";
import { isPromise, type Maybe, mapMaybe } from "../store/maybe.ts";
import type { BreakerState } from "./breaker.ts";
import type { HostSlots } from "./host-slots.ts";
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
  store: HostStateStore;
  slots: HostSlots;
  /** The host's limits, tightened by what it announced. */
  policy(host: string, row: HostRow | null): HostPolicy;
}

/** What the store holds of one host. */
interface Stored {
  host: string;
  row: HostRow;
  tats: Map<string, number>;
  live: number;
}

/** Every value, synchronously when none is a promise. */
function all<T>(xs: Maybe<T>[]): Maybe<T[]> {
  return xs.some(isPromise) ? Promise.all(xs) : (xs as T[]);
}

function readStored(store: HostStateStore, host: string, now: number): Maybe<Stored> {
  return mapMaybe(
    all<unknown>([store.readHost(host), store.rates(host), store.liveSlots(host, now)]),
    (v) => {
      const [row, rates, live] = v as [HostRow | null, Array<{ role: string; tat: number }>, number];
      return {
        host,
        row: row ?? emptyHostRow(host),
        tats: new Map(rates.map((r) => [r.role, r.tat])),
        live,
      };
    },
  );
}

/**
 * Up to `limit` hosts: the ones this process holds slots of first, then those the database knows.
 * Synchronous on SQLite; a promise on PostgreSQL.
 */
export function hostsSnapshot(src: SnapshotSource, now: number, limit: number): Maybe<HostSnapshot[]> {
  const { store, slots } = src;
  return mapMaybe(store.knownHosts(limit), (known) => {
    const hosts = new Set<string>(slots.hosts());
    for (const h of known) hosts.add(h);
    const read = all([...hosts].slice(0, limit).map((host) => readStored(store, host, now)));
    return mapMaybe(read, (stored) => stored.map((s) => snapshotOf(src, s, now)));
  }) as Maybe<HostSnapshot[]>;
}

function snapshotOf(src: SnapshotSource, s: Stored, now: number): HostSnapshot {
  const { host, row, tats } = s;
  const policy = src.policy(host, row);
  const nextAllowedAt = {} as Record<Role, number>;
  const rates = {} as Record<Role, string>;
  for (const role of ROLES) {
    const k = rateKeyOf(host, role, policy, row.min_interval_ms);
    nextAllowedAt[role] = gcraNextAt(tats.get(k.key) ?? 0, now, k.intervalMs, k.burst);
    rates[role] = formatInterval(policy.intervalMs[role]);
  }
  return {
    host,
    inFlight: src.slots.inFlight(host),
    inFlightAll: s.live,
    waiting: src.slots.waiting(host),
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
}
