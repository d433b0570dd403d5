// Timers a test fires by hand (src/runner/timers.ts): each timeout waits until the test fires it, or,
// once `auto` is on, fires on the next turn of the event loop. Intervals fire only when the test says.
// A test waits for a timer to be set (an event) instead of sleeping until it probably was.
import type { Timers } from "../../src/runner/timers.ts";

export interface ManualTimer {
  ms: number;
  interval: boolean;
  fn: () => void;
}

export class ManualTimers implements Timers {
  readonly pending = new Set<ManualTimer>();
  private auto = false;
  private waiters: { pred: (t: ManualTimer) => boolean; resolve: (t: ManualTimer) => void }[] = [];

  setTimeout = (fn: () => void, ms: number): ManualTimer => this.add({ fn, ms, interval: false });
  setInterval = (fn: () => void, ms: number): ManualTimer => this.add({ fn, ms, interval: true });
  clearTimeout = (t: unknown): void => void this.pending.delete(t as ManualTimer);
  clearInterval = (t: unknown): void => void this.pending.delete(t as ManualTimer);

  /** Resolves with the first pending timeout that matches, now or as soon as one is set. */
  next(pred: (t: ManualTimer) => boolean = () => true): Promise<ManualTimer> {
    for (const t of this.pending) if (!t.interval && pred(t)) return Promise.resolve(t);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** Runs a timer now (a timeout once; it is no longer pending). */
  fire(t: ManualTimer): void {
    if (!this.pending.has(t)) return;
    if (!t.interval) this.pending.delete(t);
    t.fn();
  }

  /** From now on every timeout fires on the next turn of the event loop (pending ones too). */
  autoFire(): void {
    this.auto = true;
    for (const t of [...this.pending]) if (!t.interval) setImmediate(() => this.fire(t));
  }

  private add(t: ManualTimer): ManualTimer {
    this.pending.add(t);
    if (!t.interval && this.auto) setImmediate(() => this.fire(t));
    else if (!t.interval)
      for (const w of this.waiters.splice(0))
        if (w.pred(t)) w.resolve(t);
        else this.waiters.push(w);
    return t;
  }
}
