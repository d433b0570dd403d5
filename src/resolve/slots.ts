// Per-resolver concurrency for metadata requests, shared by every job of a process so that N jobs
// resolving at once never put more than `resolvers.<name>.max_concurrent` requests on one service.

export class ResolverSlots {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly limitOf: (name: string) => number) {}

  /** Wait for a slot of `name`; the returned function releases it (exactly once). */
  async acquire(name: string, signal?: AbortSignal): Promise<() => void> {
    const limit = Math.max(1, this.limitOf(name));
    while ((this.active.get(name) ?? 0) >= limit) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(name) ?? [];
        queue.push(resolve);
        this.waiting.set(name, queue);
        // An aborted waiter leaves the queue, so a later release wakes a live waiter, not a stale one.
        signal?.addEventListener(
          "abort",
          () => {
            const i = queue.indexOf(resolve);
            if (i >= 0) queue.splice(i, 1);
            resolve();
          },
          { once: true },
        );
      });
    }
    signal?.throwIfAborted();
    this.active.set(name, (this.active.get(name) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active.set(name, (this.active.get(name) ?? 1) - 1);
      this.waiting.get(name)?.shift()?.();
    };
  }

  inFlight(name: string): number {
    return this.active.get(name) ?? 0;
  }
}
