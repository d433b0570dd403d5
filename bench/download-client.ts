// The HTTP client the download benchmark uses: the real client, loopback allowed, robots off, and
// the real politeness gate (in-memory database) holding the benchmark's host to `maxPerHost`
// concurrent transfers with no rate limit, as a runner's many workers share one host's slots.
// The gate is wrapped to count the transfers in flight (permits held), so the benchmark can show
// that it never ran more than the limit at once.
import { Database } from "bun:sqlite";
import { defaultConfig } from "../src/config/schema.ts";
import { hostKey } from "../src/core/url.ts";
import { createHttpClient } from "../src/net/fetch.ts";
import type {
  AcquireRequest,
  Observation,
  Permit,
  PolitenessGate,
  Refusal,
} from "../src/net/politeness-port.ts";
import type { HttpClient } from "../src/net/types.ts";
import { Politeness } from "../src/politeness/politeness.ts";
import { MIGRATIONS } from "../src/store/migrations.ts";

/** A politeness gate that counts the permits it holds: one permit is one transfer in flight. */
export class CountingGate implements PolitenessGate {
  inFlight = 0;
  maxInFlight = 0;
  permits = 0;
  /** Total time permits were held (ms). */
  heldMs = 0;

  constructor(private readonly inner: PolitenessGate) {}

  async acquire(p: AcquireRequest): Promise<Permit | Refusal> {
    const r = await this.inner.acquire(p);
    if (!r.ok) return r;
    this.permits++;
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    let released = false;
    const t0 = performance.now();
    return {
      ok: true,
      waitedMs: r.waitedMs,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.heldMs += performance.now() - t0;
        r.release();
      },
    };
  }

  observe(host: string, o: Observation): void {
    this.inner.observe(host, o);
  }

  setMinInterval(host: string, ms: number): void {
    this.inner.setMinInterval(host, ms);
  }
}

export interface BenchClient {
  http: HttpClient;
  gate: CountingGate;
  close(): void;
}

/** The client for downloads from `origin`, at most `maxPerHost` transfers to it at once. */
export function makeBenchClient(maxBytes: number, origin: string, maxPerHost: number): BenchClient {
  const config = defaultConfig();
  config.network.allow_private = ["127.0.0.0/8"];
  config.politeness.robots = false;
  config.politeness.max_wait_s = 3600; // callers queue for a slot; none should give up
  config.politeness.hosts[hostKey(origin)] = {
    rate: "1000000/s", // no rate limit to speak of: concurrency is the only limit
    burst: 1000,
    max_concurrent: maxPerHost,
  };
  config.download.max_bytes = maxBytes;
  const db = new Database(":memory:");
  // The politeness tables: their migration and the later ones that extend them.
  for (const m of MIGRATIONS) if (m.name === "politeness" || m.name === "breaker_reason") m.up(db);
  const politeness = new Politeness({ db, config, renewEveryMs: 0 });
  const gate = new CountingGate(politeness);
  return {
    http: createHttpClient({ config, politeness: gate, version: "bench" }),
    gate,
    close: () => db.close(),
  };
}
