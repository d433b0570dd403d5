// An in-memory stand-in for the politeness port (src/politeness implements the real one on the
// database): a FIFO concurrency limit per host, scripted refusals, and a log of everything the
// client reported, so client tests can assert that slots are always released and hosts are told.
import type {
  AcquireRequest,
  Observation,
  Permit,
  PolitenessGate,
  Refusal,
} from "../../src/net/politeness-port.ts";

export class MemoryPoliteness implements PolitenessGate {
  readonly acquires: AcquireRequest[] = [];
  readonly observations: { host: string; o: Observation }[] = [];
  readonly minIntervals = new Map<string, number>();
  /** Answer a refusal instead of a permit (breaker open, rate wait too long). */
  refuse?: (p: AcquireRequest) => Refusal | undefined;
  private readonly inUse = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private heldCount = 0;

  constructor(private readonly maxPerHost = Number.POSITIVE_INFINITY) {}

  /** Permits handed out and not yet released. */
  held(): number {
    return this.heldCount;
  }

  async acquire(p: AcquireRequest): Promise<Permit | Refusal> {
    this.acquires.push(p);
    const refusal = this.refuse?.(p);
    if (refusal) return refusal;
    const started = performance.now();
    while ((this.inUse.get(p.host) ?? 0) >= this.maxPerHost) {
      if (p.signal?.aborted) return { ok: false, reason: "cancelled", retryAt: Date.now() };
      await new Promise<void>((resolve) => {
        const list = this.waiters.get(p.host) ?? [];
        list.push(resolve);
        this.waiters.set(p.host, list);
      });
    }
    this.inUse.set(p.host, (this.inUse.get(p.host) ?? 0) + 1);
    this.heldCount++;
    let released = false;
    return {
      ok: true,
      waitedMs: performance.now() - started,
      release: () => {
        if (released) return;
        released = true;
        this.heldCount--;
        this.inUse.set(p.host, (this.inUse.get(p.host) ?? 1) - 1);
        this.waiters.get(p.host)?.shift()?.();
      },
    };
  }

  observe(host: string, o: Observation): void {
    this.observations.push({ host, o });
  }

  setMinInterval(host: string, ms: number): void {
    this.minIntervals.set(host, ms);
  }
}
