// A host's concurrency slots: one in process (FIFO, `KeyedLimiter`) and one in the database shared by
// every process (`host_slot`), with the database slot queued for in arrival order when all are taken,
// kept a moment after release for this process's next request, and renewed while held.
import type { HostStateStore } from "../store/host-state.ts";
import { detach, isPromise, type Maybe, mapMaybe } from "../store/maybe.ts";
import { KeyedLimiter, type Slot } from "./keyed-limiter.ts";
import type { SharedState } from "./shared-state.ts";
import type { Sleep, Timer } from "./timers.ts";

export interface HostSlotsOptions {
  store: HostStateStore;
  /**
   * Told of a background slot write that failed (PostgreSQL: the connection dropped). The row
   * expires after `ttlMs` in any case, so nothing stays blocked.
   */
  onStoreError: (e: unknown) => void;
  shared: SharedState;
  /** Identity of this process in the slot table. */
  owner: string;
  now: () => number;
  sleep: Sleep;
  setTimer: Timer;
  /** Lifetime of a database slot without renewal. */
  ttlMs: number;
  /** Pause between looks at the slot table while other processes hold every slot of a host. */
  pollMs: number;
  /** How long a released database slot stays with this process unless another one waits (0: off). */
  lingerMs: number;
}

/** A database slot: `held`, or the token to queue with when every slot was taken. */
export interface SlotClaim {
  token: string;
  held: boolean;
}

export class HostSlots {
  private readonly local = new KeyedLimiter();
  /** Database slots this process holds but does not use right now: host → tokens, kept until `until`. */
  private readonly idle = new Map<string, Array<{ token: string; until: number }>>();
  private sweeper: { cancel(): void } | undefined;
  private seq = 0;

  constructor(private readonly o: HostSlotsOptions) {}

  /** The in-process slot of `host` if one is free now and nobody waits for one. */
  tryLocal(host: string, limit: number): Slot | undefined {
    return this.local.tryAcquire(host, limit);
  }

  /** The in-process slot of `host` within `waitMs`, in arrival order; undefined when the wait ran out. */
  waitLocal(host: string, limit: number, waitMs: number, signal?: AbortSignal): Promise<Slot | undefined> {
    return this.local.acquireWithin(host, limit, waitMs, this.o.sleep, signal);
  }

  /**
   * The database slot without waiting: one this process released a moment ago (unless another
   * process waits for one), else a new one if fewer than `limit` are held.
   */
  claim(host: string, limit: number): Maybe<SlotClaim> {
    return mapMaybe(this.reuse(host), (reused) => {
      if (reused !== undefined) return { token: reused, held: true };
      const token = `${this.o.owner}:${++this.seq}`;
      const held = this.o.store.takeSlot(host, token, this.o.owner, this.o.now(), this.o.ttlMs, limit);
      return mapMaybe(held, (h) => ({ token, held: h }));
    }) as Maybe<SlotClaim>;
  }

  /**
   * The host's slot in the database after `claim` found none: the request queues in the database in
   * arrival order and polls for its turn, so a process that just released a slot cannot keep it for
   * its own next request while other processes wait. False (nothing held) when the deadline passes.
   */
  async waitTurn(
    host: string,
    token: string,
    limit: number,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const { store, owner, ttlMs, pollMs } = this.o;
    let now = this.o.now();
    if (now >= deadline) return false;
    const since = now;
    const waiterTtl = Math.max(4 * pollMs, 2000);
    let refreshed = now;
    let holding = false;
    await store.enqueueWaiter(host, token, owner, since, waiterTtl);
    this.o.shared.forgetWaiters(host);
    try {
      for (;;) {
        await this.o.sleep(Math.min(deadline - now, pollMs * (0.5 + Math.random())), signal);
        now = this.o.now();
        holding = await store.promoteWaiter(host, token, since, now, ttlMs, limit);
        if (holding) return true;
        if (now >= deadline) return false;
        if (now - refreshed >= waiterTtl / 2) {
          await store.refreshWaiter(host, token, now, waiterTtl);
          refreshed = now;
        }
      }
    } finally {
      if (!holding) this.drop(host, token);
    }
  }

  /**
   * Give a database slot back. `park`: the request went out, so the slot may stay with this process a
   * moment for its next request — unless another process waits for it; refusals and errors return it.
   */
  release(host: string, token: string, park: boolean): void {
    if (!park || this.o.lingerMs <= 0) {
      this.drop(host, token);
      return;
    }
    const now = this.o.now();
    const waiting = this.o.shared.othersWaiting(host, now);
    if (isPromise(waiting)) {
      waiting.then(
        (w) => (w ? this.drop(host, token) : this.park(host, token, now)),
        () => this.drop(host, token),
      );
      return;
    }
    if (waiting) {
      this.drop(host, token);
      return;
    }
    this.park(host, token, now);
  }

  /** Release a database slot; on PostgreSQL without waiting for the answer. */
  private drop(host: string, token: string): void {
    detach(this.o.store.releaseSlot(host, token), this.o.onStoreError);
  }

  private park(host: string, token: string, now: number): void {
    const until = now + this.o.lingerMs;
    const list = this.idle.get(host);
    if (list) list.push({ token, until });
    else this.idle.set(host, [{ token, until }]);
    this.scheduleSweep();
  }

  /** Requests of this process holding / waiting for the host's in-process slot. */
  inFlight(host: string): number {
    return this.local.inFlight(host);
  }

  waiting(host: string): number {
    return this.local.waiting(host);
  }

  /** Hosts this process holds or waits for slots of. */
  hosts(): string[] {
    return this.local.entries().map((e) => e.key);
  }

  /** Keep this process's database slots (and breaker trials) alive; rows of crashed processes expire meanwhile. */
  renew(): Maybe<void> {
    return this.o.store.renewOwner(this.o.owner, this.o.now(), this.o.ttlMs);
  }

  /** Give back every database slot this process still holds. */
  close(): Maybe<void> {
    this.sweeper?.cancel();
    this.idle.clear();
    return this.o.store.releaseOwner(this.o.owner);
  }

  /** A slot this process released a moment ago, unless another process is waiting for one. */
  private reuse(host: string): Maybe<string | undefined> {
    if (!this.idle.has(host)) return undefined;
    const now = this.o.now();
    return mapMaybe(this.o.shared.othersWaiting(host, now), (waiting) => {
      const list = this.idle.get(host);
      if (!list) return undefined;
      if (waiting) {
        this.idle.delete(host);
        for (const e of list) this.drop(host, e.token);
        return undefined;
      }
      const e = list.pop();
      if (list.length === 0) this.idle.delete(host);
      if (e && e.until >= now) return e.token;
      if (e) this.drop(host, e.token);
      return undefined;
    });
  }

  private scheduleSweep(): void {
    if (this.sweeper) return;
    this.sweeper = this.o.setTimer(() => {
      this.sweeper = undefined;
      const now = this.o.now();
      for (const [host, list] of this.idle) {
        const keep = list.filter((e) => e.until > now);
        for (const e of list) if (e.until <= now) this.drop(host, e.token);
        if (keep.length > 0) this.idle.set(host, keep);
        else this.idle.delete(host);
      }
      if (this.idle.size > 0) this.scheduleSweep();
    }, this.o.lingerMs);
  }
}
