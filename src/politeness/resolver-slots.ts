// The one per-resolver concurrency limit of a process: a resolver's own requests (its metadata API,
// the landing pages it proposed) hold one of min(politeness.max_per_resolver,
// resolvers.<name>.max_concurrent) slots, shared by every job, so N jobs resolving at once never put
// more than that on one service. Files it found are bounded by their hosts alone (see `takesSlot`).
import type { Config } from "../config/schema.ts";
import type { Role } from "../net/types.ts";
import { KeyedLimiter, type Slot } from "./keyed-limiter.ts";
import type { Sleep } from "./timers.ts";

export type ResolverLimitConfig = Pick<Config, "politeness" | "resolvers">;

export class ResolverSlots {
  private readonly limiter = new KeyedLimiter();

  constructor(private readonly config: ResolverLimitConfig) {}

  /**
   * Whether a request takes a resolver slot: one made for a resolver, other than a file download
   * (one resolver's candidates spread over many hosts would otherwise queue behind a handful of slots).
   */
  takesSlot(resolver: string | undefined, role: Role): resolver is string {
    return resolver !== undefined && role !== "artifact";
  }

  /** A slot of `name` if one is free now and nobody waits for one. */
  tryAcquire(name: string): Slot | undefined {
    return this.limiter.tryAcquire(name, this.limit(name));
  }

  /** A slot of `name` within `waitMs`, in arrival order; undefined when the wait ran out. */
  acquireWithin(name: string, waitMs: number, sleep: Sleep, signal?: AbortSignal): Promise<Slot | undefined> {
    return this.limiter.acquireWithin(name, this.limit(name), waitMs, sleep, signal);
  }

  /** min(politeness.max_per_resolver, resolvers.<name>.max_concurrent). */
  limit(name: string): number {
    const perResolver = (
      this.config.resolvers as unknown as Record<string, { max_concurrent?: number } | undefined>
    )[name]?.max_concurrent;
    const global = this.config.politeness.max_per_resolver;
    return perResolver === undefined ? global : Math.min(global, perResolver);
  }
}
