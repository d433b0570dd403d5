// The politeness state every runner shares (SPEC 7, 13): a host's row (cool-down, breaker, crawl
// delay, announced limits), its GCRA rate reservations per rate key and its concurrency slots. Two
// implementations: sqlite/host-state.ts (synchronous) and postgres/host-state.ts (database clock).
import type { GcraDecision } from "./gcra.ts";
import type { Maybe } from "./maybe.ts";

export type BreakerColumn = "closed" | "open" | "half_open";

/** One row of `host_state`. */
export interface HostRow {
  host: string;
  cooldown_until: number;
  backoff_ms: number;
  breaker: BreakerColumn;
  failures: number;
  open_until: number;
  trial_until: number;
  trial_owner: string | null;
  count_429: number;
  /** The failure that last opened the breaker (`timeout`, `conn_error`, `http_502`, …). */
  breaker_reason: string | null;
  min_interval_ms: number;
  announced_interval_ms: number;
  announced_concurrency: number;
  updated_at: number;
}

export function emptyHostRow(host: string): HostRow {
  return {
    host,
    cooldown_until: 0,
    backoff_ms: 0,
    breaker: "closed",
    failures: 0,
    open_until: 0,
    trial_until: 0,
    trial_owner: null,
    count_429: 0,
    breaker_reason: null,
    min_interval_ms: 0,
    announced_interval_ms: 0,
    announced_concurrency: 0,
    updated_at: 0,
  };
}

export const HOST_COLUMNS = [
  "host",
  "cooldown_until",
  "backoff_ms",
  "breaker",
  "failures",
  "open_until",
  "trial_until",
  "trial_owner",
  "count_429",
  "breaker_reason",
  "min_interval_ms",
  "announced_interval_ms",
  "announced_concurrency",
  "updated_at",
] as const satisfies readonly (keyof HostRow)[];

/** Whether two rows hold the same state (updated_at aside): unchanged rows are not written. */
export function sameHostRow(a: HostRow, b: HostRow): boolean {
  for (const c of HOST_COLUMNS) if (c !== "updated_at" && a[c] !== b[c]) return false;
  return true;
}

/**
 * A rate reservation's answer, in the caller's clock: `startAt` the instant the request may go,
 * `waitMs` = `startAt` − the caller's now (PostgreSQL places the database's instant on this clock).
 */
export type RateDecision = GcraDecision;

/**
 * The politeness state. SQLite answers values; PostgreSQL answers promises, and computes every
 * instant several servers compare (reservations, slot and waiter expiry) from the database clock:
 * the caller's `now` is used only where no other server compares it (host rows).
 */
export interface HostStateStore {
  readHost(host: string): Maybe<HostRow | null>;
  /**
   * Read-modify-write of a host's row, serialized against every other writer; `change` returns the
   * new row, or the same one for none. Answers the row it leaves.
   */
  updateHost(host: string, now: number, change: (row: HostRow) => HostRow): Maybe<HostRow>;
  /** Reserve one request on (host, key) as one atomic statement (see gcraReserve); nothing when refused. */
  reserveRate(
    host: string,
    key: string,
    now: number,
    intervalMs: number,
    burst: number,
    maxWaitMs: number,
  ): Maybe<RateDecision>;
  /** Stored theoretical arrival times of a host's rate keys. */
  rates(host: string): Maybe<Array<{ role: string; tat: number }>>;
  /** Requests in flight at `host` across all processes (unexpired slots). */
  liveSlots(host: string, now: number): Maybe<number>;
  /** Take one of `limit` slots of `host` if one is free and nobody waits; false otherwise. */
  takeSlot(
    host: string,
    token: string,
    owner: string,
    now: number,
    ttlMs: number,
    limit: number,
  ): Maybe<boolean>;
  /** Queue for a slot of `host` in arrival order shared by all processes. */
  enqueueWaiter(host: string, token: string, owner: string, since: number, ttlMs: number): Maybe<void>;
  /** Turn a queued waiter into a holder if its turn has come. */
  promoteWaiter(
    host: string,
    token: string,
    since: number,
    now: number,
    ttlMs: number,
    limit: number,
  ): Maybe<boolean>;
  /** Requests of any process queued for a slot of `host`. */
  waiters(host: string, now: number): Maybe<number>;
  /** Keep a waiter in line (a waiter that stops refreshing, a crashed one, drops out). */
  refreshWaiter(host: string, token: string, now: number, ttlMs: number): Maybe<void>;
  releaseSlot(host: string, token: string): Maybe<void>;
  /** Extend the slots and breaker trials `owner` holds, and drop expired rows of crashed holders. */
  renewOwner(owner: string, now: number, ttlMs: number): Maybe<void>;
  /** Drop every slot `owner` holds (shutdown). */
  releaseOwner(owner: string): Maybe<void>;
  /** Hosts with any stored state, most recently active first (status page). */
  knownHosts(limit: number): Maybe<string[]>;
}
