// The politeness gate the HTTP client asks before every request (src/net/politeness-port.ts): host
// health (breaker-gate.ts), then resolver and host concurrency slots (resolver-slots.ts,
// host-slots.ts), then one GCRA rate reservation in the database, slept until, then the pacing of
// the actual start (pacing.ts). All waits together stay within the caller's maxWaitMs; beyond it the
// answer is a refusal with retryAt. This module composes the parts and orders the steps.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/schema.ts";
import type { AcquireRequest, Observation, Permit, PolitenessGate, Refusal } from "../net/politeness-port.ts";
import type { HostRow, HostStateStore } from "../store/host-state.ts";
import { detach, isPromise, type Maybe } from "../store/maybe.ts";
import { SqliteHostStore } from "../store/sqlite/host-state.ts";
import { BreakerGate } from "./breaker-gate.ts";
import { HostSlots } from "./host-slots.ts";
import {
  type AnnouncedLimits,
  applyAnnounced,
  createHostTable,
  type HostPolicy,
  type HostTable,
} from "./host-table.ts";
import type { Slot } from "./keyed-limiter.ts";
import { ARRIVAL_HEADROOM_MS, type PaceKey, Pacer, rateKeyOf } from "./pacing.ts";
import { ResolverSlots } from "./resolver-slots.ts";
import { SharedState } from "./shared-state.ts";
import { type HostSnapshot, hostsSnapshot } from "./snapshot.ts";
import { realSleep, realTimer, type Sleep, type Timer } from "./timers.ts";

export type { HostSnapshot } from "./snapshot.ts";
export type { Sleep, Timer } from "./timers.ts";

export interface PolitenessOptions {
  /** The shared politeness state (PostgreSQL, or SQLite); or `db`. */
  store?: HostStateStore;
  /** A SQLite database migrated to version 2 (migration "politeness"), when `store` is not given. */
  db?: Database;
  /** Told of a background write that failed (PostgreSQL: the connection dropped); default: ignored. */
  onStoreError?: (e: unknown) => void;
  config: Pick<Config, "politeness" | "resolvers" | "contact_email">;
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
  /** How much each request's spacing is widened beyond the host's interval (pacing.ts `aimedInterval`). */
  arrivalHeadroomMs?: number;
}

/** Lateness past a reserved start (timer or scheduling delay) after which the slot is taken again. */
const LATE_MS = 20;
/**
 * Headroom left inside `maxWaitMs` when reserving, for the pacing wait behind a late request: a
 * reservation at the very edge of the caller's wait would otherwise be spent and then refused.
 */
const PACE_HEADROOM_MS = LATE_MS;
/** How long before a reserved start the host's row is read again on a store that answers promises. */
const READ_LEAD_MS = 15;
/** Suggested pause before asking again after the host's slots stayed full for the whole wait. */
const BUSY_RETRY_MS = 1000;
/** How often a snapshot is read from a store that answers promises. */
const SNAPSHOT_EVERY_MS = 1000;

export class Politeness implements PolitenessGate {
  readonly store: HostStateStore;
  readonly table: HostTable;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly shared: SharedState;
  private readonly health: BreakerGate;
  private readonly resolvers: ResolverSlots;
  private readonly slots: HostSlots;
  private readonly pacer: Pacer;
  private readonly renewTimer: ReturnType<typeof setInterval> | undefined;
  private readonly onStoreError: (e: unknown) => void;
  private readonly headroomMs: number;
  /** The last snapshot read from a store that answers promises, and when it was asked for. */
  private lastSnapshot: { at: number; hosts: HostSnapshot[]; pending: boolean } = {
    at: Number.NEGATIVE_INFINITY,
    hosts: [],
    pending: false,
  };

  constructor(opts: PolitenessOptions) {
    const config = opts.config;
    if (opts.store) this.store = opts.store;
    else if (opts.db) this.store = new SqliteHostStore(opts.db);
    else throw new TypeError("Politeness: give the store, or a SQLite database");
    this.onStoreError = opts.onStoreError ?? (() => {});
    this.headroomMs = opts.arrivalHeadroomMs ?? ARRIVAL_HEADROOM_MS;
    this.table =
      opts.hostTable ??
      createHostTable(config, {
        contactEmail: config.contact_email,
        // The schema's resolver helper does not carry the type of its extra keys.
        ncbiApiKey: (config.resolvers.pmc as { api_key?: string }).api_key,
      });
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
    const owner = opts.owner ?? `${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
    const slotTtlMs = opts.slotTtlMs ?? 30_000;
    this.shared = new SharedState(this.store, opts.sharedStateFreshMs ?? 50);
    this.health = new BreakerGate({
      shared: this.shared,
      table: this.table,
      owner,
      now: this.now,
      sleep: this.sleep,
      onStoreError: this.onStoreError,
      breaker: {
        failureThreshold: config.politeness.breaker_failures,
        resetMs: config.politeness.breaker_reset_s * 1000,
        trialTtlMs: slotTtlMs,
      },
      capMs: config.politeness.retry_after_cap_s * 1000,
    });
    this.resolvers = new ResolverSlots(config);
    this.slots = new HostSlots({
      store: this.store,
      shared: this.shared,
      owner,
      now: this.now,
      sleep: this.sleep,
      setTimer: opts.setTimer ?? realTimer,
      ttlMs: slotTtlMs,
      pollMs: opts.slotPollMs ?? 25,
      lingerMs: opts.slotLingerMs ?? 250,
      onStoreError: this.onStoreError,
    });
    this.pacer = new Pacer(this.now, this.sleep);
    const every = opts.renewEveryMs ?? Math.floor(slotTtlMs / 3);
    if (every > 0) {
      this.renewTimer = setInterval(() => detach(this.renew(), this.onStoreError), every);
      this.renewTimer.unref?.();
    }
  }

  // Every step tries without waiting first and awaits only when it must: the common request goes
  // through without a timer or an extra promise hop (the pacing check right before the permit
  // relies on it).
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
        this.slots.release(host, token, park);
        token = undefined;
      }
    };
    const refuse = (reason: Refusal["reason"], retryAt: number): Refusal => {
      releaseAll();
      if (trial) this.health.abandonTrial(host);
      return { ok: false, reason, retryAt };
    };

    try {
      if (signal?.aborted) return refuse("cancelled", this.now());
      const read = this.shared.hostRow(host, started);
      let row = isPromise(read) ? await read : read;
      this.health.noteClean(host, row, started);

      // 1. Breaker and cool-down, before any slot is taken: a cooling host holds nobody's slots. An
      // open breaker answers at once (and says so) even when the host is also cooling down.
      if (row?.breaker === "open" && row.open_until > started) return refuse("breaker_open", row.open_until);
      if (row && row.cooldown_until > started) {
        const coolFrom = this.now();
        const cooled = await this.health.waitCooldown(row, deadline, signal);
        heldBack += this.now() - coolFrom;
        if (typeof cooled === "number") return refuse("rate_limited", cooled);
        row = await this.shared.hostRow(host, this.now(), true);
      }
      if (row && row.breaker !== "closed") {
        const admitting = this.health.admit(host);
        const admission = isPromise(admitting) ? await admitting : admitting;
        if (!admission.admit) return refuse("breaker_open", admission.retryAt);
        trial = admission.trial;
      }
      const policy = this.policy(host, row);

      // 2. Concurrency: resolver, then host in process, then host in the database (always in this
      // order, so waiters cannot deadlock).
      if (this.resolvers.takesSlot(req.resolver, role)) {
        const r =
          this.resolvers.tryAcquire(req.resolver) ??
          (await this.resolvers.acquireWithin(req.resolver, deadline - this.now(), this.sleep, signal));
        if (!r) return refuse("rate_limited", this.now() + BUSY_RETRY_MS);
        held.push(r);
      }
      const limit = policy.maxConcurrent;
      const h =
        this.slots.tryLocal(host, limit) ??
        (await this.slots.waitLocal(host, limit, deadline - this.now(), signal));
      if (!h) return refuse("rate_limited", this.now() + BUSY_RETRY_MS);
      held.push(h);
      const claiming = this.slots.claim(host, limit);
      const claim = isPromise(claiming) ? await claiming : claiming;
      if (!claim.held && !(await this.slots.waitTurn(host, claim.token, limit, deadline, signal)))
        return refuse("rate_limited", this.now() + BUSY_RETRY_MS);
      token = claim.token;
      if (trial) this.health.holdTrial(host, token);

      // 3. The rate: reserve the earliest start the budget allows and sleep until it. A cool-down that
      // began meanwhile (another request got a 429) voids the reservation: wait it out, reserve again.
      let retaken = false;
      let k: PaceKey;
      for (;;) {
        k = rateKeyOf(host, role, policy, row?.min_interval_ms ?? 0, this.headroomMs);
        const now = this.now();
        const reserving = this.store.reserveRate(
          host,
          k.key,
          now,
          k.intervalMs,
          k.burst,
          deadline - now - PACE_HEADROOM_MS,
        );
        const d = isPromise(reserving) ? await reserving : reserving;
        if (!d.allowed) return refuse("rate_limited", d.startAt);
        if (d.waitMs <= 0) break;
        // The row is read again after the wait (a cool-down may have begun) unless this process read
        // it within `sharedStateFreshMs`. Where that read is a round trip (PostgreSQL) it is made
        // while the slot approaches and not waited for past the slot, so the request leaves at its
        // reserved time instead of one round trip — 1–30 ms on a loaded machine — after it: another
        // process's on-time request reserved behind it would follow it too closely. A read still out
        // at the slot leaves the last reading in force.
        const lead = isPromise(reserving) ? READ_LEAD_MS : 0;
        await this.sleep(d.startAt - lead - this.now(), signal);
        const reading = this.shared.hostRow(host, this.now());
        let read: HostRow | null | undefined;
        if (isPromise(reading))
          reading.then(
            (r) => {
              read = r;
            },
            () => {},
          );
        else read = reading;
        const left = d.startAt - this.now();
        if (left > 0) await this.sleep(left, signal);
        if (read !== undefined) row = read;
        const woke = this.now();
        if (row && row.cooldown_until > woke) {
          const coolFrom = this.now();
          const again = await this.health.waitCooldown(row, deadline, signal);
          heldBack += this.now() - coolFrom;
          if (typeof again === "number") return refuse("rate_limited", again);
          row = await this.shared.hostRow(host, this.now(), true);
          continue;
        }
        // A process stalled past its slot (overloaded machine, long pause) would now arrive on top of
        // the next slot's request: give the missed slot up and take a new one instead — once, so a
        // machine late on every timer still makes progress.
        if (retaken || woke - d.startAt <= LATE_MS) break;
        retaken = true;
      }

      // 4. The actual start: a request that went out later than its reserved time must not be
      // followed closer than the interval by the ones reserved behind it (pacing.ts).
      const go = this.pacer.start(k, deadline, me, signal);
      if (go !== true) {
        const paced = await go;
        if (paced !== true) return refuse("rate_limited", paced);
      }
    } catch (e) {
      if (signal?.aborted) return refuse("cancelled", this.now());
      releaseAll();
      if (trial) this.health.abandonTrial(host);
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
        if (trial) this.health.endTrial(host, permitToken);
        this.pacer.ended(host, me);
        releaseAll(true);
      },
    };
  }

  observe(host: string, o: Observation): void {
    const now = this.now();
    this.pacer.answered(host, now);
    detach(this.health.record(host, o, now), this.onStoreError);
  }

  setMinInterval(host: string, ms: number): void {
    const value = Math.max(0, Number.isFinite(ms) ? ms : 0);
    const now = this.now();
    const apply = (current: HostRow | null): Maybe<void> => {
      if ((current?.min_interval_ms ?? 0) === value) return;
      const done = this.shared.updateHost(host, now, (row) => ({ ...row, min_interval_ms: value }));
      return isPromise(done) ? done.then(() => undefined) : undefined;
    };
    const read = this.shared.hostRow(host, now, true);
    detach(isPromise(read) ? read.then(apply) : apply(read), this.onStoreError);
  }

  /** Per-host state for the status page: this process's slots plus what the database holds. */
  hostsSnapshot(limit = 500): HostSnapshot[] {
    const now = this.now();
    const last = this.lastSnapshot;
    // A store that answers promises (PostgreSQL) is read in the background, at most once a second:
    // the status page and metrics get the last reading.
    if (last.pending || now - last.at < SNAPSHOT_EVERY_MS) return last.hosts;
    const snap = hostsSnapshot(
      { store: this.store, slots: this.slots, policy: (host, row) => this.policy(host, row) },
      now,
      limit,
    );
    if (!isPromise(snap)) return snap;
    last.pending = true;
    last.at = now;
    snap.then(
      (hosts) => {
        this.lastSnapshot = { at: now, hosts, pending: false };
      },
      (e) => {
        last.pending = false;
        this.onStoreError(e);
      },
    );
    return last.hosts;
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

  /** Keep this process's host slots and trials alive; rows of crashed processes expire meanwhile. */
  renew(): Maybe<void> {
    return this.slots.renew();
  }

  /** Stop renewing and give back every slot this process still holds. */
  close(): Maybe<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    return this.slots.close();
  }
}

export function createPoliteness(opts: PolitenessOptions): Politeness {
  return new Politeness(opts);
}
