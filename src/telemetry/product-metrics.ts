// The metrics docstokg exports (SPEC 9): what the runner records as it works and what is read from
// the store and the politeness layer at scrape time. No URL labels ever; host labels only for a
// bounded set (configured hosts plus the first few seen, the rest as `other`).
import type { Role } from "../net/types.ts";
import { type Counter, type Gauge, type Histogram, OVERFLOW_LABEL, Registry } from "./metrics.ts";
import { type BreakerState, type HostSnapshot, JOB_STATES, type QueueStats } from "./snapshots.ts";

export const DOWNLOAD_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;
export const RATE_WAIT_SECONDS_BUCKETS = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;
const BREAKER_STATES: readonly BreakerState[] = ["closed", "half_open", "open"];

/** Status class label: 2xx…5xx, or `error` for a request that got no response. */
export function statusClass(status: number | undefined): string {
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 599) return "error";
  return `${Math.floor(status / 100)}xx`;
}

/** Maps hosts to label values: configured hosts always, the first `limit` others seen, then `other`. */
export class HostLabels {
  private readonly known: Set<string>;
  private readonly seen = new Set<string>();
  constructor(
    configured: Iterable<string>,
    private readonly limit = 20,
  ) {
    this.known = new Set(configured);
  }
  label(host: string): string {
    if (this.known.has(host) || this.seen.has(host)) return host;
    if (this.seen.size < this.limit) {
      this.seen.add(host);
      return host;
    }
    return OVERFLOW_LABEL;
  }
}

export interface MetricSources {
  /** Queue counts; read at every scrape. */
  stats?: () => Pick<QueueStats, "counts" | "paused"> | Promise<Pick<QueueStats, "counts" | "paused">>;
  /** Per-host state; read at every scrape. */
  hosts?: () => HostSnapshot[] | Promise<HostSnapshot[]>;
}

export interface ProductMetrics {
  registry: Registry;
  jobs: Gauge<"state">;
  paused: Gauge;
  completions: Counter<"state" | "reason">;
  inFlight: Gauge;
  bytes: Counter;
  requests: Counter<"role" | "status_class">;
  downloadSeconds: Histogram;
  rateWaitSeconds: Histogram<"role">;
  hostsByBreaker: Gauge<"state">;
  hostBreakerOpen: Gauge<"host">;
  leaseLosses: Counter;
  hostLabels: HostLabels;
  /** Records one HTTP request: its role, status (undefined when no response) and limiter wait. */
  recordRequest(role: Role, status: number | undefined, rateWaitMs: number): void;
}

export interface ProductMetricsOptions extends MetricSources {
  /** Hosts named in config (`politeness.hosts`): always get their own label. */
  configuredHosts?: Iterable<string>;
  /** Other hosts with their own label before the rest fold into `other`. */
  hostLabelLimit?: number;
  onCollectError?: (err: unknown) => void;
}

export function createProductMetrics(opts: ProductMetricsOptions = {}): ProductMetrics {
  const registry = new Registry(opts.onCollectError);
  const hostLabels = new HostLabels(opts.configuredHosts ?? [], opts.hostLabelLimit ?? 20);
  const m = {
    registry,
    hostLabels,
    jobs: registry.gauge({
      name: "docstokg_jobs",
      help: "Jobs in the queue by state.",
      labelNames: ["state"],
    }),
    paused: registry.gauge({ name: "docstokg_queue_paused", help: "1 while the queue is paused, else 0." }),
    completions: registry.counter({
      name: "docstokg_job_completions_total",
      help: "Jobs that reached a terminal state in this process, by state and outcome reason.",
      labelNames: ["state", "reason"],
      maxSeries: 300,
    }),
    inFlight: registry.gauge({
      name: "docstokg_jobs_in_flight",
      help: "Jobs this process is working on now.",
    }),
    bytes: registry.counter({
      name: "docstokg_downloaded_bytes_total",
      help: "Response body bytes downloaded by this process.",
    }),
    requests: registry.counter({
      name: "docstokg_http_requests_total",
      help: "HTTP requests by politeness role and response status class (error: no response).",
      labelNames: ["role", "status_class"],
      maxSeries: 40,
    }),
    downloadSeconds: registry.histogram({
      name: "docstokg_download_duration_seconds",
      help: "Time to download one candidate file, from request to last byte.",
      buckets: DOWNLOAD_SECONDS_BUCKETS,
    }),
    rateWaitSeconds: registry.histogram({
      name: "docstokg_rate_wait_seconds",
      help: "Time a request waited for the host rate and concurrency limiters.",
      labelNames: ["role"],
      buckets: RATE_WAIT_SECONDS_BUCKETS,
      maxSeries: 5,
    }),
    hostsByBreaker: registry.gauge({
      name: "docstokg_hosts_by_breaker_state",
      help: "Known hosts by circuit breaker state.",
      labelNames: ["state"],
    }),
    hostBreakerOpen: registry.gauge({
      name: "docstokg_host_breaker_open",
      help: "1 when the host's breaker is open, 0.5 half-open, 0 closed (bounded set of hosts).",
      labelNames: ["host"],
      maxSeries: 50,
    }),
    leaseLosses: registry.counter({
      name: "docstokg_lease_losses_total",
      help: "Jobs abandoned because their lease was lost to another runner.",
    }),
    recordRequest(role: Role, status: number | undefined, rateWaitMs: number) {
      m.requests.inc({ role, status_class: statusClass(status) });
      m.rateWaitSeconds.observe({ role }, Math.max(0, rateWaitMs) / 1000);
    },
  } satisfies ProductMetrics;

  const { stats, hosts } = opts;
  if (stats) {
    registry.onCollect(async () => {
      const s = await stats();
      for (const st of JOB_STATES) m.jobs.set({ state: st }, s.counts[st] ?? 0);
      m.paused.set(undefined, s.paused ? 1 : 0);
    });
  }
  if (hosts) {
    registry.onCollect(async () => {
      const list = await hosts();
      const byState: Record<BreakerState, number> = { closed: 0, half_open: 0, open: 0 };
      for (const h of list) byState[h.breaker.state] = (byState[h.breaker.state] ?? 0) + 1;
      for (const st of BREAKER_STATES) m.hostsByBreaker.set({ state: st }, byState[st]);
      // Per-host series only for hosts that already have a bounded label; the rest stay in the totals.
      m.hostBreakerOpen.reset();
      for (const h of list) {
        const label = hostLabels.label(h.host);
        if (label === OVERFLOW_LABEL) continue;
        const b = h.breaker.state;
        m.hostBreakerOpen.set({ host: label }, b === "open" ? 1 : b === "half_open" ? 0.5 : 0);
      }
    });
  }
  return m;
}
