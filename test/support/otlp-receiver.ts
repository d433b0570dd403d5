// An OpenTelemetry collector stand-in on loopback: accepts OTLP/HTTP on /v1/metrics and /v1/traces,
// decodes every body (protobuf with otlp-proto.ts, JSON as is), keeps what arrived with its headers,
// and wakes tests waiting for a request that matches. Can be told to answer with an error status.
import { decodeMessage, withoutDefaults } from "./otlp-proto.ts";

export interface Received {
  path: string;
  headers: Record<string, string>;
  /** The request decoded into the JSON mapping's shape, proto3 defaults removed. */
  body: Record<string, unknown>;
  encoding: "protobuf" | "json";
}

export interface OtlpReceiver {
  url: string;
  received: Received[];
  /** Answer every request with this status from now on (200 by default). */
  answer(status: number): void;
  /** Resolves with the first request (past or future) matching `match`; rejects after `ms`. */
  waitFor(match: (r: Received) => boolean, ms?: number): Promise<Received>;
  stop(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: Received[] = [];
  const waiters = new Set<(r: Received) => void>();
  let status = 200;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const type = req.headers.get("content-type") ?? "";
      const bytes = new Uint8Array(await req.arrayBuffer());
      // Any base path: the exporter appends /v1/<signal> to the endpoint's own path.
      const message = path.endsWith("/v1/metrics")
        ? "ExportMetricsServiceRequest"
        : path.endsWith("/v1/traces")
          ? "ExportTraceServiceRequest"
          : undefined;
      if (!message) return new Response("not found", { status: 404 });
      const encoding = type.startsWith("application/json") ? "json" : "protobuf";
      let body: Record<string, unknown>;
      try {
        body = withoutDefaults(
          encoding === "json" ? JSON.parse(new TextDecoder().decode(bytes)) : decodeMessage(message, bytes),
        ) as Record<string, unknown>;
      } catch (e) {
        return new Response(`undecodable ${encoding} body: ${e instanceof Error ? e.message : e}`, {
          status: 400,
        });
      }
      const headers: Record<string, string> = {};
      req.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const r: Received = { path, headers, body, encoding };
      received.push(r);
      for (const w of [...waiters]) w(r);
      if (status !== 200) return new Response("unavailable", { status });
      return encoding === "json"
        ? Response.json({})
        : new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    received,
    answer(s) {
      status = s;
    },
    waitFor(match, ms = 10_000) {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching OTLP request within ${ms} ms (${received.length} received)`));
        }, ms);
        const check = (r: Received) => {
          if (!match(r)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(r);
        };
        waiters.add(check);
      });
    },
    async stop() {
      await server.stop(true);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reading what arrived

type Obj = Record<string, unknown>;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** OTLP attributes (KeyValue list) as a plain record; int64 strings become numbers. */
export function attributes(kvs: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list(kvs)) {
    const v = (kv.value ?? {}) as Obj;
    const key = kv.key as string;
    if ("stringValue" in v) out[key] = v.stringValue as string;
    else if ("intValue" in v) out[key] = Number(v.intValue);
    else if ("doubleValue" in v) out[key] = v.doubleValue as number;
    else if ("boolValue" in v) out[key] = v.boolValue as boolean;
    else out[key] = 0; // a zero int, double or false: the default removed
  }
  return out;
}

export interface ReceivedMetric {
  name: string;
  kind: "gauge" | "sum" | "histogram";
  metric: Obj;
  resource: Record<string, string | number | boolean>;
}

export function metricsIn(r: Received): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const rm of list(r.body.resourceMetrics)) {
    const resource = attributes((rm.resource as Obj | undefined)?.attributes);
    for (const sm of list(rm.scopeMetrics))
      for (const metric of list(sm.metrics)) {
        const kind = "histogram" in metric ? "histogram" : "sum" in metric ? "sum" : "gauge";
        out.push({ name: metric.name as string, kind, metric, resource });
      }
  }
  return out;
}

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: Record<string, string | number | boolean>;
  status?: { code?: number; message?: string };
  resource: Record<string, string | number | boolean>;
}

export function spansIn(r: Received): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of list(r.body.resourceSpans)) {
    const resource = attributes((rs.resource as Obj | undefined)?.attributes);
    for (const ss of list(rs.scopeSpans))
      for (const s of list(ss.spans))
        out.push({
          traceId: s.traceId as string,
          spanId: s.spanId as string,
          parentSpanId: s.parentSpanId as string | undefined,
          name: s.name as string,
          kind: (s.kind as number | undefined) ?? 0,
          start: BigInt((s.startTimeUnixNano as string | undefined) ?? 0),
          end: BigInt((s.endTimeUnixNano as string | undefined) ?? 0),
          attributes: attributes(s.attributes),
          status: s.status as ReceivedSpan["status"],
          resource,
        });
  }
  return out;
}
