// The politeness gate the HTTP client asks before every request (src/net/politeness-port.ts): host
// cool-down and circuit breaker first, then resolver and host concurrency slots (in process, and a
// host slot in the database shared by every process), then one GCRA rate reservation, slept until.
// All waits together stay within the caller's maxWaitMs; beyond it the answer is a refusal with retryAt.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/schema.ts";
import type { AcquireRequest, Observation, Permit, PolitenessGate, Refusal } from "../net/politeness-port.ts";
import type { Role } from "../net/types.ts";
import {
  type BreakerSettings,
  type BreakerState,
  breakerAdmit,
  breakerRecord,
  breakerReleaseTrial,
  failureCause,
  verdictOf,
} from "./breaker.ts";
import { type CooldownSettings, cooldownAfter } from "./cooldown.ts";
import { gcraNextAt, gcraReserve } from "./gcra.ts";
import { emptyHostRow, type HostRow, HostStore, sameHostRow } from "./host-store.ts";
import {
  type AnnouncedLimits,
  applyAnnounced,
  createHostTable,
  type HostPolicy,
  type HostTable,
  parseAnnouncedLimits,
  ROLES,
} from "./host-table.ts";
import { KeyedLimiter, type Slot } from "./keyed-limiter.ts";
import { formatInterval } from "./rate.ts";

/** Sleep `ms`, or reject with the signal's reason when it aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface PolitenessOptions {
  /** A database migrated to version 2 (migration "politeness"). */
  db: Database;
  config: Config;
  now?: () => number;
  sleep?: Sleep;
  /** Defaults to the host table built from `config` (built-ins, `politeness.hosts`). */
  hostTable?: HostTable;
  /** Identity of this process in the slot table (default: pid + random). */
  owner?: string;
  /** Lifetime of a host slot or breaker trial without renewal: how long a crashed holder blocks one. */
  slotTtlMs?: number;
  /** How often held slots are renewed (0: never by timer; call `renew()` yourself). Default ttl / 3. */
  renewEveryMs?: number;
  /**
   * How long a released host slot stays reserved for this process's next request to the host while
   * no other process waits for it (saves two database writes per request; 0 turns it off).
   */
  slotLingerMs?: number;
  /** Background timer (idle slot sweep); defaults to an unref'd setTimeout. */
  setTimer?: Timer;
  /** Pause between looks at the slot table while other processes hold every slot of a host. */
  slotPollMs?: number;
  /**
   * How long a reading of a host's shared state (its row: cool-down, breaker, crawl delay; whether
   * other processes wait for its slots) is trusted before reading it again. What another process
   * changes is seen within this; what this process changes, at once. 0 reads before every use.
   */
  sharedStateFreshMs?: number;
}

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

const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    // setTimeout treats anything beyond 2^31-1 ms as 1 ms: an unbounded wait must not end at once.
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.min(Math.max(0, ms), MAX_TIMER_MS),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** Run `fn` after `ms` unless cancelled; must not keep the process alive. */
export type Timer = (fn: () => void, ms: number) => { cancel(): void };

const realTimer: Timer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref?.();
  return { cancel: () => clearTimeout(t) };
};

const MAX_TIMER_MS = 2 ** 31 - 1;
/** Lateness past a reserved start (timer or scheduling delay) after which the slot is taken again. */
const LATE_MS = 20;
/** How long a healthy reading of a host's row lets a success skip the read in `observe`. */
const CLEAN_FOR_MS = 2000;
const CLEAN_HOSTS_MAX = 4096;
/**
 * How much earlier than its pace allows a request may still go: a tenth of the interval, at most 5 ms.
 * Without it every request held back a moment would add its own timer's lateness (1–10 ms on a busy
 * machine) to all the later ones, and a saturated host would drift ever further behind its rate.
 */
const paceSlackMs = (intervalMs: number) => Math.min(5, intervalMs / 10);
/**
 * Headroom left inside `maxWaitMs` when reserving, for the pacing wait behind a late request: a
 * reservation at the very edge of the caller's wait would otherwise be spent and then refused.
 */
const PACE_HEADROOM_MS = LATE_MS;
/** A rate key idle this long is cold: its next request likely opens a new connection. */
const COLD_AFTER_MS = 5000;
/** The longest the requests behind a cold key's first one wait for its answer to begin. */
const COLD_WAIT_MAX_MS = 1000;

/** The first request on a cold rate key, until its answer begins (see `pace`). */
interface Opening {
  id: string;
  intervalMs: number;
  since: number;
  /** Identity of the acquire that went. */
  by: object;
  answered: AbortController;
}
/** Rate keys whose in-process pace is remembered; beyond it the ones longest past are dropped. */
const PACED_KEYS_MAX = 4096;
/** Hosts whose shared state (row, waiters) is remembered; beyond it the least recent are dropped. */
const SEEN_HOSTS_MAX = 4096;
/** What was read of a host's shared state, and when. */
interface Reading<T> {
  value: T;
  at: number;
}

/** `map.set`, keeping the map ordered by last use and at most `max` entries (oldest dropped). */
function setRecent<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

/** An answer that, on a healthy host, changes no state: not a failure, not a slow-down, not neutral. */
function isPlainSuccess(o: Observation): boolean {
  return (
    o.failure === undefined && o.status !== undefined && o.status < 500 && o.status !== 429 && !o.slowDown
  );
}
const WAIT_EXPIRED = Symbol("politeness wait expired");
/** Suggested pause before asking again after the host's slots stayed full for the whole wait. */
const BUSY_RETRY_MS = 1000;

export class Politeness implements PolitenessGate {
  readonly store: HostStore;
  readonly table: HostTable;
  private readonly config: Config;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly owner: string;
  private readonly slotTtlMs: number;
  private readonly slotPollMs: number;
  private readonly hostSlots = new KeyedLimiter();
  private readonly resolverSlots = new KeyedLimiter();
  private readonly breakerSettings: BreakerSettings;
  private readonly capMs: number;
  /** Trials this process was granted and has not heard the answer of: host → slot token. */
  private readonly trials = new Map<string, string>();
  /** Hosts seen healthy at their last acquire → when (see `noteClean`). */
  private readonly clean = new Map<string, number>();
  private readonly renewTimer: ReturnType<typeof setInterval> | undefined;
  /** Database slots this process holds but does not use right now: host → tokens, kept until `until`. */
  private readonly idle = new Map<string, Array<{ token: string; until: number }>>();
  private readonly slotLingerMs: number;
  private sweeper: { cancel(): void } | undefined;
  private readonly setTimer: Timer;
  private seq = 0;
  /**
   * In-process GCRA over the times requests of this process actually went out (host + rate key →
   * theoretical arrival time), next to the reservations in the database (see `pace`).
   */
  private readonly paced = new Map<string, number>();
  /** Host → the cold rate key whose first request's answer is awaited (see `pace`, `observe`). */
  private readonly opening = new Map<string, Opening>();
  private readonly sharedStateFreshMs: number;
  /** Host → its row as last read or written, and when. */
  private readonly rowSeen = new Map<string, Reading<HostRow | null>>();
  /** Host → whether other processes waited for its slots at the last look, and when. */
  private readonly waitersSeen = new Map<string, Reading<boolean>>();

  constructor(opts: PolitenessOptions) {
    this.config = opts.config;
    this.store = new HostStore(opts.db);
    this.table =
      opts.hostTable ??
      createHostTable(opts.config, {
        contactEmail: opts.config.contact_email,
        // The schema's resolver helper does not carry the type of its extra keys.
        ncbiApiKey: (opts.config.resolvers.pmc as { api_key?: string }).api_key,
      });
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
    this.owner = opts.owner ?? `${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
    this.slotTtlMs = opts.slotTtlMs ?? 30_000;
    this.slotPollMs = opts.slotPollMs ?? 25;
    this.slotLingerMs = opts.slotLingerMs ?? 250;
    this.setTimer = opts.setTimer ?? realTimer;
    this.sharedStateFreshMs = opts.sharedStateFreshMs ?? 50;
    const p = opts.config.politeness;
    this.capMs = p.retry_after_cap_s * 1000;
    this.breakerSettings = {
      failureThreshold: p.breaker_failures,
      resetMs: p.breaker_reset_s * 1000,
      trialTtlMs: this.slotTtlMs,
    };
    const every = opts.renewEveryMs ?? Math.floor(this.slotTtlMs / 3);
    if (every > 0) {
      this.renewTimer = setInterval(() => this.renew(), every);
      this.renewTimer.unref?.();
    }
  }

  async acquire(req: AcquireRequest): Promise<Permit | Refusal> {
    const { host, role, signal } = req;
    const started = this.now();
    const deadline = started + Math.max(0, req.maxWaitMs);
    const me = {};
    const held: Slot[] = [];
    let token: string | undefined;
    let trial = false;
    // Cool-down waits are the host pushing back, not pacing: reported apart (the report's objective).
    let heldBack = 0;
    // Only a request that went out parks its host slot for reuse; refusals and errors return it.
    const releaseAll = (park = false) => {
      for (const s of held.splice(0)) s.release();
      if (token !== undefined) {
        if (park) this.parkSlot(host, token);
        else this.store.releaseSlot(host, token);
        token = undefined;
      }
    };
    const refuse = (reason: Refusal["reason"], retryAt: number): Refusal => {
      releaseAll();
      if (trial) this.abandonTrial(host);
      return { ok: false, reason, retryAt };
    };

    try {
      if (signal?.aborted) return refuse("cancelled", this.now());
      let row = this.hostRow(host, started);
      this.noteClean(host, row, started);

      // 1. Breaker and cool-down, before any slot is taken: a cooling host holds nobody's slots. An
      // open breaker answers at once (and says so) even when the host is also cooling down.
      if (row?.breaker === "open" && row.open_until > started) return refuse("breaker_open", row.open_until);
      if (row && row.cooldown_until > started) {
        const coolFrom = this.now();
        const cooled = await this.waitCooldown(row, deadline, signal);
        heldBack += this.now() - coolFrom;
        if (typeof cooled === "number") return refuse("rate_limited", cooled);
        row = this.hostRow(host, this.now(), true);
      }
      if (row && row.breaker !== "closed") {
        const admission = this.admitBreaker(host);
        if (!admission.admit) return refuse("breaker_open", admission.retryAt);
        trial = admission.trial;
      }
      const policy = this.policy(host, row);

      // 2. Concurrency: resolver, then host (always in this order, so waiters cannot deadlock). Each
      // step tries without waiting first: the common case stays free of timers and extra promises.
      // A resolver's limit bounds its own requests (API calls, landing pages); downloading the files
      // it found is bounded by their hosts alone, or one resolver's candidates spread over many hosts
      // would queue behind a handful of slots.
      if (req.resolver !== undefined && req.role !== "artifact") {
        const limit = this.resolverLimit(req.resolver);
        const r =
          this.resolverSlots.tryAcquire(req.resolver, limit) ??
          (await this.waitSlot(this.resolverSlots, req.resolver, limit, deadline, signal));
        if (!r) return refuse("rate_limited", this.now() + BUSY_RETRY_MS);
        held.push(r);
      }
      const h =
        this.hostSlots.tryAcquire(host, policy.maxConcurrent) ??
        (await this.waitSlot(this.hostSlots, host, policy.maxConcurrent, deadline, signal));
      if (!h) return refuse("rate_limited", this.now() + BUSY_RETRY_MS);
      held.push(h);
      token = this.reuseSlot(host);
      if (token === undefined) {
        const fresh = `${this.owner}:${++this.seq}`;
        const now = this.now();
        if (
          !this.store.takeSlot(host, fresh, this.owner, now, this.slotTtlMs, policy.maxConcurrent) &&
          !(await this.waitHostSlot(host, fresh, policy.maxConcurrent, deadline, signal))
        ) {
          return refuse("rate_limited", this.now() + BUSY_RETRY_MS);
        }
        token = fresh;
      }
      if (trial) this.trials.set(host, token);

      // 3. The rate: reserve the earliest start the budget allows and sleep until it. A cool-down that
      // began meanwhile (another request got a 429) voids the reservation: wait it out, reserve again.
      let retaken = false;
      let key: string;
      let interval: number;
      let burst: number;
      for (;;) {
        const useRobots = role !== "metadata" && (row?.min_interval_ms ?? 0) > 0;
        key = useRobots ? "robots" : role;
        interval = useRobots
          ? Math.max(policy.intervalMs[role], row?.min_interval_ms ?? 0)
          : policy.intervalMs[role];
        burst = useRobots ? 1 : policy.burst;
        const now = this.now();
        const d = this.store.reserveRate(host, key, now, interval, burst, deadline - now - PACE_HEADROOM_MS);
        if (!d.allowed) return refuse("rate_limited", d.startAt);
        if (d.waitMs <= 0) break;
        await this.sleep(d.startAt - now, signal);
        const woke = this.now();
        row = this.hostRow(host, woke, true);
        if (row && row.cooldown_until > woke) {
          const coolFrom = this.now();
          const again = await this.waitCooldown(row, deadline, signal);
          heldBack += this.now() - coolFrom;
          if (typeof again === "number") return refuse("rate_limited", again);
          row = this.hostRow(host, this.now(), true);
          continue;
        }
        // A process stalled past its slot (overloaded machine, long pause) would now arrive on top of
        // the next slot's request: give the missed slot up and take a new one instead — once, so a
        // machine late on every timer still makes progress.
        if (retaken || woke - d.startAt <= LATE_MS) break;
        retaken = true;
      }

      // 4. The actual start: a request that went out later than its reserved time (a late timer, a
      // busy event loop) must not be followed closer than the interval by the ones reserved behind
      // it, or the host would see a window holding one request too many.
      // On time — the common case — the start is recorded without a wait or an extra promise hop.
      const id = `${host}\n${key}`;
      if (!this.startIfDue(host, id, interval, burst, me)) {
        const paced = await this.pace(host, id, interval, burst, deadline, me, signal);
        if (paced !== true) return refuse("rate_limited", paced);
      }
    } catch (e) {
      if (signal?.aborted) return refuse("cancelled", this.now());
      releaseAll();
      if (trial) this.abandonTrial(host);
      throw e;
    }

    const permitToken = token;
    let released = false;
    return {
      ok: true,
      waitedMs: this.now() - started,
      heldBackMs: heldBack,
      release: () => {
        if (released) return;
        released = true;
        // A trial whose answer was never reported must not block the host until the trial expires.
        if (trial && this.trials.get(host) === permitToken) this.abandonTrial(host);
        // Ended without an answer (cancelled, failed): the followers of a cold key wait no longer.
        if (this.opening.get(host)?.by === me) this.opened(host);
        releaseAll(true);
      },
    };
  }

  observe(host: string, o: Observation): void {
    const now = this.now();
    this.opened(host, now);
    const announced = o.headers ? parseAnnouncedLimits(o.headers) : undefined;
    if (this.trials.has(host) && verdictOf(o) !== "neutral") this.trials.delete(host);
    // A success on a host that was healthy when its request set out changes nothing: no read, no write.
    if (announced === undefined && isPlainSuccess(o) && (this.clean.get(host) ?? -1) >= now - CLEAN_FOR_MS)
      return;
    const apply = (row: HostRow) => this.applyObservation(row, o, announced, now);
    // Otherwise most answers still change nothing: find out with a read, write only if not.
    const current = this.hostRow(host, now, true) ?? emptyHostRow(host);
    if (sameHostRow(current, apply(current))) return;
    this.clean.delete(host);
    this.updateHost(host, now, apply);
  }

  /**
   * A reading of shared state for `host`: the one in `seen` when younger than `sharedStateFreshMs`
   * (and not `forced`), else `read()` now, remembered.
   */
  private shared<T>(
    seen: Map<string, Reading<T>>,
    host: string,
    now: number,
    read: () => T,
    forced = false,
  ): T {
    const last = seen.get(host);
    if (!forced && last && now >= last.at && now - last.at < this.sharedStateFreshMs) return last.value;
    const value = read();
    setRecent(seen, host, { value, at: now }, SEEN_HOSTS_MAX);
    return value;
  }

  /** The host's row, as `shared` reads it; `fresh` reads it from the database in any case. */
  private hostRow(host: string, now: number, fresh = false): HostRow | null {
    return this.shared(this.rowSeen, host, now, () => this.store.readHost(host), fresh);
  }

  /** `HostStore.updateHost`, remembering the row it leaves. */
  private updateHost(host: string, now: number, change: (row: HostRow) => HostRow): HostRow {
    const row = this.store.updateHost(host, now, change);
    setRecent(this.rowSeen, host, { value: row, at: now }, SEEN_HOSTS_MAX);
    return row;
  }

  /** Whether other processes queue for the host's slots, as `shared` reads it. */
  private othersWaiting(host: string, now: number): boolean {
    return this.shared(this.waitersSeen, host, now, () => this.store.waiters(host, now) > 0);
  }

  /**
   * Hold a request until its start is `interval` after the previous request of this process that
   * really went out (GCRA over actual starts, burst as configured, `paceSlackMs` of tolerance),
   * then record its start; true, or the time it could go when that is past the deadline. The
   * reservations in the database space the *reserved* times; this spaces the *actual* ones: after a
   * late request the later ones shift back by its lateness. On time — the common case — it neither
   * waits nor touches the database. The check and the record happen in one synchronous step right
   * before the permit is returned, so two requests waking together cannot both pass.
   *
   * A request on a cold key (none in a while) usually opens a new connection and reaches the host
   * well after it left (connect, first use of a connection: 15–35 ms on a busy loopback): until its
   * answer begins, that answer's time counts as its start (`observe`).
   */
  private async pace(
    host: string,
    id: string,
    interval: number,
    burst: number,
    deadline: number,
    me: object,
    signal?: AbortSignal,
  ): Promise<true | number> {
    for (;;) {
      const opening = this.opening.get(host);
      if (opening && opening.id === id) {
        const until = opening.since + COLD_WAIT_MAX_MS;
        const t = this.now();
        if (t >= until) this.opened(host);
        else if (t >= deadline) return Math.min(until, t + interval);
        else {
          const wake = AbortSignal.any(
            signal ? [signal, opening.answered.signal] : [opening.answered.signal],
          );
          try {
            await this.sleep(Math.min(until, deadline) - t, wake);
          } catch (e) {
            if (signal?.aborted) throw e;
          }
          continue;
        }
      }
      const now = this.now();
      const tat = this.paced.get(id) ?? 0;
      const next = gcraNextAt(tat, now, interval, burst) - paceSlackMs(interval);
      if (next <= now) {
        this.recordStart(host, id, interval, burst, tat, now, me);
        return true;
      }
      if (next > deadline) return next;
      await this.sleep(next - now, signal);
    }
  }

  /** `pace` without waiting: records the start and answers true when it may go now, else false. */
  private startIfDue(host: string, id: string, interval: number, burst: number, me: object): boolean {
    const opening = this.opening.get(host);
    const now = this.now();
    if (opening && opening.id === id && now < opening.since + COLD_WAIT_MAX_MS) return false;
    const tat = this.paced.get(id) ?? 0;
    if (gcraNextAt(tat, now, interval, burst) - paceSlackMs(interval) > now) return false;
    if (opening && opening.id === id) this.opened(host);
    this.recordStart(host, id, interval, burst, tat, now, me);
    return true;
  }

  /** A request on `id` goes now: move its pace on, and mark a cold key's first request (`pace`). */
  private recordStart(
    host: string,
    id: string,
    interval: number,
    burst: number,
    tat: number,
    now: number,
    me: object,
  ): void {
    if (tat < now - COLD_AFTER_MS) {
      const opening = { id, intervalMs: interval, since: now, by: me, answered: new AbortController() };
      setRecent(this.opening, host, opening, PACED_KEYS_MAX);
    }
    setRecent(this.paced, id, gcraReserve(tat, now, interval, burst).tat, PACED_KEYS_MAX);
  }

  /**
   * The answer of a cold key's first request began at `answeredAt`: it reached the host by then at
   * the latest, so the requests behind it keep the interval from then. Without a time (it ended
   * without an answer, or its answer is overdue) they just stop waiting.
   */
  private opened(host: string, answeredAt?: number): void {
    const o = this.opening.get(host);
    if (!o) return;
    this.opening.delete(host);
    if (answeredAt !== undefined)
      this.paced.set(o.id, Math.max(this.paced.get(o.id) ?? 0, answeredAt + o.intervalMs));
    o.answered.abort();
  }

  /**
   * Remember hosts whose row was healthy at their last acquire (bounded: the oldest are forgotten),
   * so the success that usually follows needs no read.
   */
  private noteClean(host: string, row: HostRow | null, now: number): void {
    this.clean.delete(host);
    if (row && (row.failures !== 0 || row.backoff_ms !== 0 || row.breaker !== "closed")) return;
    setRecent(this.clean, host, now, CLEAN_HOSTS_MAX);
  }

  setMinInterval(host: string, ms: number): void {
    const value = Math.max(0, Number.isFinite(ms) ? ms : 0);
    const now = this.now();
    if ((this.hostRow(host, now, true)?.min_interval_ms ?? 0) === value) return;
    this.updateHost(host, now, (row) => ({ ...row, min_interval_ms: value }));
  }

  /** Per-host state for the status page: this process's slots plus what the database holds. */
  hostsSnapshot(limit = 500): HostSnapshot[] {
    const now = this.now();
    const hosts = new Set<string>(this.hostSlots.entries().map((e) => e.key));
    for (const h of this.store.knownHosts(limit)) hosts.add(h);
    return [...hosts].slice(0, limit).map((host) => {
      const row = this.store.readHost(host) ?? emptyHostRow(host);
      const policy = this.policy(host, row);
      const tats = new Map(this.store.rates(host).map((r) => [r.role, r.tat]));
      const nextAllowedAt = {} as Record<Role, number>;
      const rates = {} as Record<Role, string>;
      for (const role of ROLES) {
        const robots = role !== "metadata" && row.min_interval_ms > 0;
        nextAllowedAt[role] = robots
          ? gcraNextAt(
              tats.get("robots") ?? 0,
              now,
              Math.max(policy.intervalMs[role], row.min_interval_ms),
              1,
            )
          : gcraNextAt(tats.get(role) ?? 0, now, policy.intervalMs[role], policy.burst);
        rates[role] = formatInterval(policy.intervalMs[role]);
      }
      return {
        host,
        inFlight: this.hostSlots.inFlight(host),
        inFlightAll: this.store.liveSlots(host, now),
        waiting: this.hostSlots.waiting(host),
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

  /** Keep this process's host slots and trials alive; rows of crashed processes expire meanwhile. */
  renew(): void {
    this.store.renewOwner(this.owner, this.now(), this.slotTtlMs);
  }

  /** Stop renewing and give back every slot this process still holds. */
  close(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.sweeper?.cancel();
    this.idle.clear();
    this.store.releaseOwner(this.owner);
  }

  /** A slot this process released a moment ago, unless another process is waiting for one. */
  private reuseSlot(host: string): string | undefined {
    const list = this.idle.get(host);
    if (!list) return undefined;
    const now = this.now();
    if (this.othersWaiting(host, now)) {
      this.idle.delete(host);
      for (const e of list) this.store.releaseSlot(host, e.token);
      return undefined;
    }
    const e = list.pop();
    if (list.length === 0) this.idle.delete(host);
    if (e && e.until >= now) return e.token;
    if (e) this.store.releaseSlot(host, e.token);
    return undefined;
  }

  /** Give a host slot back: to the database if anyone waits for it, else keep it a moment for reuse. */
  private parkSlot(host: string, token: string): void {
    const now = this.now();
    if (this.slotLingerMs <= 0 || this.othersWaiting(host, now)) {
      this.store.releaseSlot(host, token);
      return;
    }
    const list = this.idle.get(host);
    if (list) list.push({ token, until: now + this.slotLingerMs });
    else this.idle.set(host, [{ token, until: now + this.slotLingerMs }]);
    this.scheduleSweep();
  }

  private scheduleSweep(): void {
    if (this.sweeper) return;
    this.sweeper = this.setTimer(() => {
      this.sweeper = undefined;
      const now = this.now();
      for (const [host, list] of this.idle) {
        const keep = list.filter((e) => e.until > now);
        for (const e of list) if (e.until <= now) this.store.releaseSlot(host, e.token);
        if (keep.length > 0) this.idle.set(host, keep);
        else this.idle.delete(host);
      }
      if (this.idle.size > 0) this.scheduleSweep();
    }, this.slotLingerMs);
  }

  /** The host's limits: the host table, tightened by what the host announced. */
  policy(host: string, row: HostRow | null): HostPolicy {
    const base = this.table.policyFor(host);
    if (!row || (row.announced_interval_ms <= 0 && row.announced_concurrency <= 0)) return base;
    const a: AnnouncedLimits = {};
    if (row.announced_interval_ms > 0) a.intervalMs = row.announced_interval_ms;
    if (row.announced_concurrency > 0) a.maxConcurrent = row.announced_concurrency;
    return applyAnnounced(base, a);
  }

  private resolverLimit(name: string): number {
    const perResolver = (
      this.config.resolvers as unknown as Record<string, { max_concurrent?: number } | undefined>
    )[name]?.max_concurrent;
    const global = this.config.politeness.max_per_resolver;
    return perResolver === undefined ? global : Math.min(global, perResolver);
  }

  private applyObservation(
    row: HostRow,
    o: Observation,
    a: AnnouncedLimits | undefined,
    now: number,
  ): HostRow {
    const policy = this.table.policyFor(row.host);
    const cfg: CooldownSettings = { initialBackoffMs: policy.initialBackoffMs, capMs: this.capMs };
    const cd = cooldownAfter({ until: row.cooldown_until, backoffMs: row.backoff_ms }, o, now, cfg);
    const br = breakerRecord(toBreaker(row), verdictOf(o), now, this.breakerSettings);
    const opened = br.phase === "open" && row.breaker !== "open";
    const next: HostRow = {
      ...row,
      cooldown_until: cd.until,
      backoff_ms: cd.backoffMs,
      ...fromBreaker(br, row),
      count_429: row.count_429 + (o.status === 429 ? 1 : 0),
      breaker_reason: opened ? failureCause(o) : row.breaker_reason,
    };
    if (a) {
      next.announced_interval_ms = a.intervalMs ?? 0;
      next.announced_concurrency = a.maxConcurrent ?? 0;
    }
    return next;
  }

  /** Grant or refuse under the write lock, so exactly one process gets a half-open host's trial. */
  private admitBreaker(host: string): { admit: true; trial: boolean } | { admit: false; retryAt: number } {
    let result: { admit: true; trial: boolean } | { admit: false; retryAt: number } = {
      admit: true,
      trial: false,
    };
    this.updateHost(host, this.now(), (row) => {
      const a = breakerAdmit(toBreaker(row), this.now(), this.breakerSettings);
      result = a.admit ? { admit: true, trial: a.trial } : { admit: false, retryAt: a.retryAt };
      if (!a.admit || !a.trial) return row;
      return { ...row, ...fromBreaker(a.state, row), trial_owner: this.owner };
    });
    return result;
  }

  private abandonTrial(host: string): void {
    this.trials.delete(host);
    this.updateHost(host, this.now(), (row) =>
      row.trial_owner === this.owner
        ? { ...row, ...fromBreaker(breakerReleaseTrial(toBreaker(row)), row) }
        : row,
    );
  }

  /** Wait out a cool-down if it ends before the deadline; else the time it ends. */
  private async waitCooldown(
    row: HostRow | null,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<"clear" | "waited" | number> {
    const until = row?.cooldown_until ?? 0;
    const now = this.now();
    if (until <= now) return "clear";
    if (until > deadline) return until;
    await this.sleep(until - now, signal);
    return "waited";
  }

  /** A slot of `key` before the deadline (after tryAcquire failed), or undefined when the wait ran out. */
  private async waitSlot(
    limiter: KeyedLimiter,
    key: string,
    limit: number,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<Slot | undefined> {
    const remaining = deadline - this.now();
    if (remaining <= 0) return undefined;
    const wait = new AbortController();
    const timer = new AbortController();
    const onAbort = () => wait.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (Number.isFinite(remaining)) {
      this.sleep(remaining, timer.signal).then(
        () => wait.abort(WAIT_EXPIRED),
        () => {},
      );
    }
    try {
      return await limiter.acquire(key, limit, wait.signal);
    } catch (e) {
      if (e === WAIT_EXPIRED) return undefined;
      throw e;
    } finally {
      timer.abort();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * The host's slot in the database (shared by every process), after a first attempt failed: the
   * request queues in the database in arrival order and polls for its turn, so a process that just
   * released a slot cannot keep it for its own next request while other processes wait.
   */
  private async waitHostSlot(
    host: string,
    token: string,
    limit: number,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    let now = this.now();
    if (now >= deadline) return false;
    const since = now;
    const waiterTtl = Math.max(4 * this.slotPollMs, 2000);
    let refreshed = now;
    let holding = false;
    this.store.enqueueWaiter(host, token, this.owner, since, waiterTtl);
    this.waitersSeen.delete(host);
    try {
      for (;;) {
        await this.sleep(Math.min(deadline - now, this.slotPollMs * (0.5 + Math.random())), signal);
        now = this.now();
        holding = this.store.promoteWaiter(host, token, since, now, this.slotTtlMs, limit);
        if (holding) return true;
        if (now >= deadline) return false;
        if (now - refreshed >= waiterTtl / 2) {
          this.store.refreshWaiter(host, token, now, waiterTtl);
          refreshed = now;
        }
      }
    } finally {
      if (!holding) this.store.releaseSlot(host, token);
    }
  }
}

function toBreaker(row: HostRow): BreakerState {
  return {
    phase: row.breaker,
    failures: row.failures,
    openUntil: row.open_until,
    trialUntil: row.trial_until,
  };
}

function fromBreaker(
  s: BreakerState,
  row: HostRow,
): Pick<HostRow, "breaker" | "failures" | "open_until" | "trial_until" | "trial_owner"> {
  return {
    breaker: s.phase,
    failures: s.failures,
    open_until: s.openUntil,
    trial_until: s.trialUntil,
    trial_owner: s.phase === "half_open" && s.trialUntil > 0 ? row.trial_owner : null,
  };
}

export function createPoliteness(opts: PolitenessOptions): Politeness {
  return new Politeness(opts);
}
