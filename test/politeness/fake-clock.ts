// A controllable clock for politeness tests: `now` only moves when the test says so, `sleep` registers
// a timer that `advance` fires in time order (or, with `auto`, every sleep simply moves time on).
export class FakeClock {
  private readonly timers: Array<{ at: number; fire(): void; seq: number }> = [];
  private seq = 0;
  /** Every sleep requested, in ms, in order (to assert what a caller waited for). */
  readonly sleeps: number[] = [];

  constructor(
    public t = 1_700_000_000_000,
    private readonly auto = false,
  ) {}

  now = (): number => this.t;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.auto) {
      this.t += Math.max(0, ms);
      this.fireDue();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.timers.push(timer);
    });
  };

  /** A background timer (not a sleep): fires when time passes it, in either mode. */
  setTimeout = (fn: () => void, ms: number): { cancel(): void } => {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fire: fn };
    this.timers.push(timer);
    return {
      cancel: () => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
      },
    };
  };

  private fireDue(): void {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > this.t) return;
      this.timers.shift();
      next.fire();
    }
  }

  /** Pending timers. */
  get pending(): number {
    return this.timers.length;
  }

  /** Move time forward by `ms`, firing due timers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await settle();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fire();
      await settle();
    }
    this.t = target;
    await settle();
  }
}

/** Let every pending promise continuation run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}
