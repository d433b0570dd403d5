// In-process concurrency limits per key (a host, a resolver): at most `limit` holders per key, waiters
// served first come first served, a waiter whose signal aborts or whose wait runs out leaves the queue,
// and a key with no holders and no waiters is forgotten, so memory follows the keys in use.
import type { Sleep } from "./timers.ts";

export interface Slot {
  /** Give the slot back; calling it again does nothing. */
  release(): void;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const WAIT_EXPIRED = Symbol("slot wait expired");

interface KeyState {
  active: number;
  limit: number;
  waiters: Waiter[];
}

export class KeyedLimiter {
  private readonly keys = new Map<string, KeyState>();

  /**
   * Take a slot of `key`, waiting in line when `limit` are held. The limit is the caller's current
   * view (it may shrink when a host announces a lower one; holders above it simply drain). Rejects
   * with the signal's reason when aborted while waiting; nothing is held then.
   */
  acquire(key: string, limit: number, signal?: AbortSignal): Promise<Slot> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const st = this.stateOf(key, limit);
    if (st.active < st.limit && st.waiters.length === 0) {
      st.active++;
      return Promise.resolve(this.slot(key, st));
    }
    return new Promise<Slot>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = st.waiters.indexOf(w);
          if (i >= 0) st.waiters.splice(i, 1);
          this.settle(key, st);
          reject(signal.reason);
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      st.waiters.push(w);
      this.settle(key, st);
    });
  }

  /**
   * `acquire`, waiting at most `waitMs` (measured with `sleep`): undefined when the wait ran out (or
   * `waitMs` ≤ 0), nothing held then. Rejects with the signal's reason when it aborts first.
   */
  async acquireWithin(
    key: string,
    limit: number,
    waitMs: number,
    sleep: Sleep,
    signal?: AbortSignal,
  ): Promise<Slot | undefined> {
    if (waitMs <= 0) return undefined;
    const wait = new AbortController();
    const timer = new AbortController();
    const onAbort = () => wait.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (Number.isFinite(waitMs)) {
      sleep(waitMs, timer.signal).then(
        () => wait.abort(WAIT_EXPIRED),
        () => {},
      );
    }
    try {
      return await this.acquire(key, limit, wait.signal);
    } catch (e) {
      if (e === WAIT_EXPIRED) return undefined;
      throw e;
    } finally {
      timer.abort();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Take a slot only if one is free right now and nobody is waiting. */
  tryAcquire(key: string, limit: number): Slot | undefined {
    const st = this.stateOf(key, limit);
    if (st.active < st.limit && st.waiters.length === 0) {
      st.active++;
      return this.slot(key, st);
    }
    this.settle(key, st);
    return undefined;
  }

  /** Slots held for `key`. */
  inFlight(key: string): number {
    return this.keys.get(key)?.active ?? 0;
  }

  /** Callers waiting for `key`. */
  waiting(key: string): number {
    return this.keys.get(key)?.waiters.length ?? 0;
  }

  /** Keys currently tracked (held or waited for). */
  get size(): number {
    return this.keys.size;
  }

  /** Keys with their holders and waiters, for the status page. */
  entries(): Array<{ key: string; inFlight: number; waiting: number; limit: number }> {
    return [...this.keys].map(([key, s]) => ({
      key,
      inFlight: s.active,
      waiting: s.waiters.length,
      limit: s.limit,
    }));
  }

  private stateOf(key: string, limit: number): KeyState {
    let st = this.keys.get(key);
    if (!st) {
      st = { active: 0, limit, waiters: [] };
      this.keys.set(key, st);
    } else if (st.limit !== limit) {
      st.limit = limit;
      this.settle(key, st);
    }
    return st;
  }

  private slot(key: string, st: KeyState): Slot {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        st.active--;
        this.settle(key, st);
      },
    };
  }

  /** Hand free slots to waiters in order, and forget the key once it is idle. */
  private settle(key: string, st: KeyState): void {
    while (st.active < st.limit && st.waiters.length > 0) {
      const w = st.waiters.shift() as Waiter;
      if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
      st.active++;
      w.resolve(this.slot(key, st));
    }
    if (st.active === 0 && st.waiters.length === 0 && this.keys.get(key) === st) this.keys.delete(key);
  }
}
