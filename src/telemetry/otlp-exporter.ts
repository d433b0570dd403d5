// OTLP/HTTP export for `queue run`: the metrics registry (the /metrics set) every
// `telemetry.otlp_interval_s`, ended spans in batches every few seconds, and both once more at
// shutdown. The collector is the operator's own endpoint, so this is a plain fetch with a time limit,
// outside the URL gate that guards scraped hosts; a failure is logged once per kind and never
// touches a job.
import type { Config } from "../config/schema.ts";
import type { MetricSnapshot } from "./metrics.ts";
import { metricsJson, metricsProto, tracesJson, tracesProto } from "./otlp-encode.ts";
import { type AttributeValue, type FinishedSpan, RecordingTracer, type Tracer } from "./tracing.ts";

export type OtlpProtocol = "http/protobuf" | "http/json";

export interface OtlpSettings {
  /** Base URL; `/v1/metrics` and `/v1/traces` are appended. */
  endpoint: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  timeoutMs: number;
  intervalMs: number;
  resource: Record<string, AttributeValue>;
  scope: { name: string; version: string };
}

/** Facts about this process that go into the resource. */
export interface ProcessFacts {
  version: string;
  /** The runner id (host:pid:token), as the runner registry knows it. */
  instanceId: string;
  hostName: string;
}

/** The export settings, or null when no endpoint is configured (no export at all). */
export function otlpSettings(config: Pick<Config, "telemetry">, facts: ProcessFacts): OtlpSettings | null {
  const t = config.telemetry;
  if (t.otlp_endpoint === "") return null;
  const given = t.otlp_resource_attributes;
  // OTEL_SERVICE_NAME (the key) wins over service.name among the resource attributes.
  const serviceName = t.otlp_service_name ?? given["service.name"] ?? "docstokg";
  return {
    endpoint: t.otlp_endpoint,
    protocol: t.otlp_protocol,
    headers: t.otlp_headers,
    timeoutMs: t.otlp_timeout_s * 1000,
    intervalMs: t.otlp_interval_s * 1000,
    resource: {
      "service.version": facts.version,
      "service.instance.id": facts.instanceId,
      "host.name": facts.hostName,
      ...given,
      "service.name": serviceName,
    },
    scope: { name: "docstokg", version: facts.version },
  };
}

/** The URL of one signal: the base URL with `v1/metrics` or `v1/traces` appended to its path. */
export function signalUrl(endpoint: string, signal: "metrics" | "traces"): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/${signal}`;
}

/** The endpoint for log lines: no user info. */
export function displayEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    u.username = "";
    u.password = "";
    return u.href;
  } catch {
    return "(invalid URL)";
  }
}

export interface ExportLog {
  warn(message: string): void;
  debug(message: string): void;
}

export interface OtlpExporterOptions {
  settings: OtlpSettings;
  registry: { snapshot(): Promise<MetricSnapshot[]> };
  log: ExportLog;
  /** The HTTP client (tests: any fetch); default the runtime's fetch. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Epoch ms when the cumulative series began (default: now). */
  startMs?: number;
  clock?: () => number;
  /** How often ended spans are sent (default 5 s); a full batch goes at once. */
  spanIntervalMs?: number;
  /** Spans per request (default 512) and most spans waiting (default 2048; more are dropped). */
  spanBatch?: number;
  maxQueuedSpans?: number;
}

type Signal = "metrics" | "traces";

export class OtlpExporter {
  readonly tracer: Tracer;
  private readonly o: OtlpExporterOptions;
  private readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  private readonly clock: () => number;
  private readonly startMs: number;
  private readonly pending: FinishedSpan[] = [];
  private dropped = 0;
  private readonly reported = new Set<string>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private metricsInFlight: Promise<void> | undefined;
  private spansInFlight: Promise<void> | undefined;
  private closed = false;

  constructor(o: OtlpExporterOptions) {
    this.o = o;
    this.fetch = o.fetch ?? ((url, init) => fetch(url, init));
    this.clock = o.clock ?? (() => performance.timeOrigin + performance.now());
    this.startMs = o.startMs ?? this.clock();
    this.tracer = new RecordingTracer((span) => this.enqueue(span), this.clock);
  }

  /** Begin the periodic exports. */
  start(): void {
    const every = (ms: number, fn: () => unknown) => {
      const t = setInterval(fn, ms);
      (t as { unref?: () => void }).unref?.();
      this.timers.push(t);
    };
    every(this.o.settings.intervalMs, () => this.exportMetrics());
    every(this.o.spanIntervalMs ?? 5000, () => this.exportSpans());
  }

  /** Stop the timers and send what is left: the metrics once more and every waiting span. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    await Promise.all([this.metricsInFlight, this.spansInFlight]);
    await Promise.all([this.sendMetrics(), this.sendSpans()]);
  }

  /** One metrics export, unless one is still under way. */
  exportMetrics(): Promise<void> {
    this.metricsInFlight ??= this.sendMetrics().finally(() => {
      this.metricsInFlight = undefined;
    });
    return this.metricsInFlight;
  }

  /** Send the waiting spans, unless a send is under way (it takes the new ones too). */
  exportSpans(): Promise<void> {
    this.spansInFlight ??= this.sendSpans().finally(() => {
      this.spansInFlight = undefined;
    });
    return this.spansInFlight;
  }

  private enqueue(span: FinishedSpan): void {
    if (this.pending.length >= (this.o.maxQueuedSpans ?? 2048)) {
      this.dropped++;
      this.failed("traces", "queue full", `span queue full: spans dropped (${this.dropped} so far)`);
      return;
    }
    this.pending.push(span);
    if (!this.closed && this.pending.length >= (this.o.spanBatch ?? 512)) void this.exportSpans();
  }

  private async sendMetrics(): Promise<void> {
    let metrics: MetricSnapshot[];
    try {
      metrics = await this.o.registry.snapshot();
    } catch (e) {
      this.failed("metrics", "collect", `reading the metrics failed: ${errorText(e)}`);
      return;
    }
    const { settings } = this.o;
    const e = { resource: settings.resource, scope: settings.scope, metrics, startMs: this.startMs };
    const timeMs = this.clock();
    await this.post(
      "metrics",
      settings.protocol === "http/json" ? metricsJson({ ...e, timeMs }) : metricsProto({ ...e, timeMs }),
    );
  }

  private async sendSpans(): Promise<void> {
    const { settings } = this.o;
    const batch = this.o.spanBatch ?? 512;
    while (this.pending.length > 0) {
      const spans = this.pending.splice(0, batch);
      const e = { resource: settings.resource, scope: settings.scope, spans };
      await this.post("traces", settings.protocol === "http/json" ? tracesJson(e) : tracesProto(e));
    }
  }

  private async post(signal: Signal, body: Uint8Array<ArrayBuffer> | string): Promise<void> {
    const { settings } = this.o;
    const url = signalUrl(settings.endpoint, signal);
    try {
      const res = await this.fetch(url, {
        method: "POST",
        headers: {
          ...settings.headers,
          "content-type": typeof body === "string" ? "application/json" : "application/x-protobuf",
          "user-agent": `docstokg/${settings.scope.version}`,
        },
        body,
        signal: AbortSignal.timeout(settings.timeoutMs),
        redirect: "error",
      });
      // Read the (small) answer so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) this.failed(signal, `HTTP ${res.status}`, `the collector answered HTTP ${res.status}`);
    } catch (e) {
      const timeout = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
      if (timeout) this.failed(signal, "timeout", `no answer within ${settings.timeoutMs / 1000} s`);
      else this.failed(signal, "unreachable", `the request failed: ${errorText(e)}`);
    }
  }

  /** A failure is a warning the first time its kind occurs, then a debug line: exports repeat. */
  private failed(signal: Signal, kind: string, detail: string): void {
    const key = `${signal} ${kind}`;
    const where = signalUrl(displayEndpoint(this.o.settings.endpoint), signal);
    const line = `OTLP export of ${signal} to ${where}: ${detail}; the run goes on without it`;
    if (this.reported.has(key)) this.o.log.debug(line);
    else {
      this.reported.add(key);
      this.o.log.warn(`${line} (repeats of this failure are logged at debug level)`);
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
