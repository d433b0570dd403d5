// A value recomputed in the background and served from memory: the status API's answers stay fast on
// a queue of millions because no request waits for a count over it (except the very first one). A
// slow computation is spaced out in proportion to its cost, so it never takes more than a small
// share of the process's time.

export interface RefreshingOptions {
  /** A value younger than this is served as is. */
  maxAgeMs: number;
  /** Recompute no sooner than `costFactor` × the last computation's duration (default 10). */
  costFactor?: number;
  now?: () => number;
}

export interface Fresh<T> {
  value: T;
  /** When the value was computed (epoch ms) and how long that took. */
  computedAt: number;
  tookMs: number;
}

export class Refreshing<T> {
  private current: Fresh<T> | null = null;
  private running: Promise<Fresh<T>> | null = null;
  /** Bumped by invalidate(), so a computation begun before it cannot store its older value. */
  private generation = 0;
  private readonly now: () => number;

  constructor(
    private readonly compute: () => T | Promise<T>,
    private readonly opts: RefreshingOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The last value; a stale one is returned at once and replaced in the background. */
  async get(): Promise<Fresh<T>> {
    const cur = this.current;
    if (!cur) return this.refresh();
    const age = this.now() - cur.computedAt;
    const spacing = Math.max(this.opts.maxAgeMs, cur.tookMs * (this.opts.costFactor ?? 10));
    if (age >= spacing && !this.running) {
      // After this answer has gone out: the computation blocks the thread while it runs.
      setTimeout(() => this.refresh().catch(() => {}), 0);
    }
    return cur;
  }

  /** Forget the value (after a control changed what it counts): the next get() recomputes. */
  invalidate(): void {
    this.current = null;
    this.running = null;
    this.generation++;
  }

  private refresh(): Promise<Fresh<T>> {
    if (this.running) return this.running;
    const generation = this.generation;
    const run = (async (): Promise<Fresh<T>> => {
      const started = performance.now();
      try {
        const value = await this.compute();
        const fresh = { value, computedAt: this.now(), tookMs: performance.now() - started };
        if (generation === this.generation) this.current = fresh;
        return fresh;
      } finally {
        if (generation === this.generation) this.running = null;
      }
    })();
    this.running = run;
    return run;
  }
}
