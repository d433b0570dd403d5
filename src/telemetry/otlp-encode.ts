// The two OTLP requests docstokg sends, in both encodings OTLP/HTTP defines: binary protobuf and
// JSON. Field numbers and JSON names follow opentelemetry-proto v1.x (collector/{metrics,trace}/v1,
// metrics/v1/metrics.proto, trace/v1/trace.proto, common/v1, resource/v1). Counters become monotonic
// cumulative sums, gauges gauges, histograms explicit-bucket histograms; names as on /metrics.
import type { MetricSnapshot } from "./metrics.ts";
import { ProtoWriter } from "./protobuf.ts";
import type { AttributeValue, FinishedSpan } from "./tracing.ts";

/** What every request carries: the resource (service.name, …) and the instrumentation scope. */
export interface ExportContext {
  resource: Record<string, AttributeValue>;
  scope: { name: string; version: string };
}

export interface MetricsExport extends ExportContext {
  metrics: MetricSnapshot[];
  /** Epoch ms: when the cumulative series began (process start) and when they were read. */
  startMs: number;
  timeMs: number;
}

export interface TracesExport extends ExportContext {
  spans: FinishedSpan[];
}

// Enum values from the .proto files.
const TEMPORALITY_CUMULATIVE = 2;
const SPAN_KIND = { internal: 1, client: 3 } as const;
const STATUS_ERROR = 2;
// SpanFlags: trace flags "sampled" (0x01); 0x100 says whether the parent is remote is known (it is not).
const FLAGS_ROOT = 0x01;
const FLAGS_LOCAL_PARENT = 0x101;

/** Epoch ms (fractional) as OTLP's nanoseconds, exact beyond 2^53. */
export function nanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** UCUM units where the Prometheus name says it. */
function unitOf(name: string): string {
  if (name.endsWith("_seconds")) return "s";
  if (/_bytes(_total)?$/.test(name)) return "By";
  return "";
}

// ---------------------------------------------------------------------------------------------
// Protobuf

function writeValue(w: ProtoWriter, v: AttributeValue): void {
  // AnyValue: string_value = 1, bool_value = 2, int_value = 3, double_value = 4 (a oneof: written
  // even when zero, or the receiver could not tell which member it is).
  if (typeof v === "string") w.string(1, v, true);
  else if (typeof v === "boolean") w.uint(2, v ? 1 : 0, true);
  else if (Number.isSafeInteger(v) && v >= 0) w.uint(3, v, true);
  else w.double(4, v, true);
}

function writeAttributes(w: ProtoWriter, field: number, attrs: Record<string, AttributeValue>): void {
  // KeyValue: key = 1, value = 2.
  for (const [key, value] of Object.entries(attrs))
    w.message(field, (kv) => {
      kv.string(1, key);
      kv.message(2, (any) => writeValue(any, value));
    });
}

function writeResourceAndScope(
  w: ProtoWriter,
  c: ExportContext,
  scopeField: number,
  body: (scoped: ProtoWriter) => void,
): void {
  // Resource: attributes = 1. Resource{Metrics,Spans}: resource = 1, scope_{metrics,spans} = 2.
  w.message(1, (r) => writeAttributes(r, 1, c.resource));
  w.message(scopeField, (s) => {
    // Scope{Metrics,Spans}: scope = 1, then the payload; InstrumentationScope: name = 1, version = 2.
    s.message(1, (scope) => scope.string(1, c.scope.name).string(2, c.scope.version));
    body(s);
  });
}

/** ExportMetricsServiceRequest { resource_metrics = 1 }. */
export function metricsProto(e: MetricsExport): Uint8Array<ArrayBuffer> {
  const start = nanos(e.startMs);
  const time = nanos(e.timeMs);
  const w = new ProtoWriter();
  w.message(1, (rm) =>
    writeResourceAndScope(rm, e, 2, (sm) => {
      for (const m of e.metrics) {
        // ScopeMetrics.metrics = 2. Metric: name = 1, description = 2, unit = 3, gauge = 5, sum = 7, histogram = 9.
        sm.message(2, (mw) => {
          mw.string(1, m.name).string(2, m.help).string(3, unitOf(m.name));
          if (m.type === "histogram") {
            // Histogram: data_points = 1, aggregation_temporality = 2. HistogramDataPoint: attributes = 9,
            // start_time_unix_nano = 2, time_unix_nano = 3, count = 4, sum = 5, bucket_counts = 6, explicit_bounds = 7.
            mw.message(9, (h) => {
              for (const p of m.points)
                h.message(1, (dp) => {
                  writeAttributes(dp, 9, p.labels);
                  dp.fixed64(2, start, true).fixed64(3, time, true).fixed64(4, p.count, true);
                  dp.double(5, p.sum, true);
                  dp.packedFixed64(6, p.counts).packedDouble(7, m.bounds);
                });
              h.uint(2, TEMPORALITY_CUMULATIVE);
            });
            return;
          }
          // NumberDataPoint: attributes = 7, start_time_unix_nano = 2, time_unix_nano = 3, as_double = 4.
          const points = (g: ProtoWriter, withStart: boolean) => {
            for (const p of m.points)
              g.message(1, (dp) => {
                writeAttributes(dp, 7, p.labels);
                if (withStart) dp.fixed64(2, start, true);
                dp.fixed64(3, time, true).double(4, p.value, true);
              });
          };
          if (m.type === "counter")
            // Sum: data_points = 1, aggregation_temporality = 2, is_monotonic = 3.
            mw.message(7, (sum) => {
              points(sum, true);
              sum.uint(2, TEMPORALITY_CUMULATIVE).bool(3, true);
            });
          else mw.message(5, (g) => points(g, false)); // Gauge: data_points = 1.
        });
      }
    }),
  );
  return w.finish();
}

/** ExportTraceServiceRequest { resource_spans = 1 }. */
export function tracesProto(e: TracesExport): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter();
  w.message(1, (rs) =>
    writeResourceAndScope(rs, e, 2, (ss) => {
      for (const s of e.spans) {
        // ScopeSpans.spans = 2. Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, kind = 6,
        // start_time_unix_nano = 7, end_time_unix_nano = 8, attributes = 9, status = 15, flags = 16.
        ss.message(2, (sw) => {
          sw.bytes(1, s.traceId).bytes(2, s.spanId);
          if (s.parentSpanId) sw.bytes(4, s.parentSpanId);
          sw.string(5, s.name).uint(6, SPAN_KIND[s.kind]);
          sw.fixed64(7, nanos(s.start), true).fixed64(8, nanos(s.end), true);
          writeAttributes(sw, 9, s.attributes);
          // Status: message = 2, code = 3.
          const error = s.error;
          if (error !== undefined) sw.message(15, (st) => st.string(2, error).uint(3, STATUS_ERROR));
          sw.fixed32(16, s.parentSpanId ? FLAGS_LOCAL_PARENT : FLAGS_ROOT);
        });
      }
    }),
  );
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// JSON (the protobuf JSON mapping with OTLP's exceptions: ids in hex, enums as integers)

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function jsonDouble(x: number): Json {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === Number.NEGATIVE_INFINITY) return "-Infinity";
  return x;
}

function jsonValue(v: AttributeValue): Json {
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  // int64 is a decimal string in the JSON mapping.
  if (Number.isSafeInteger(v) && v >= 0) return { intValue: String(v) };
  return { doubleValue: jsonDouble(v) };
}

function jsonAttributes(attrs: Record<string, AttributeValue>): Json[] {
  return Object.entries(attrs).map(([key, value]) => ({ key, value: jsonValue(value) }));
}

function jsonContext(c: ExportContext): { resource: Json; scope: Json } {
  return {
    resource: { attributes: jsonAttributes(c.resource) },
    scope: { name: c.scope.name, version: c.scope.version },
  };
}

export function metricsJson(e: MetricsExport): string {
  const start = nanos(e.startMs).toString();
  const time = nanos(e.timeMs).toString();
  const { resource, scope } = jsonContext(e);
  const metrics = e.metrics.map((m): Json => {
    const head = { name: m.name, description: m.help, unit: unitOf(m.name) };
    if (m.type === "histogram")
      return {
        ...head,
        histogram: {
          aggregationTemporality: TEMPORALITY_CUMULATIVE,
          dataPoints: m.points.map((p) => ({
            attributes: jsonAttributes(p.labels),
            startTimeUnixNano: start,
            timeUnixNano: time,
            count: String(p.count),
            sum: jsonDouble(p.sum),
            bucketCounts: p.counts.map(String),
            explicitBounds: m.bounds.map(jsonDouble),
          })),
        },
      };
    const dataPoints = m.points.map((p) => ({
      attributes: jsonAttributes(p.labels),
      ...(m.type === "counter" ? { startTimeUnixNano: start } : {}),
      timeUnixNano: time,
      asDouble: jsonDouble(p.value),
    }));
    return m.type === "counter"
      ? { ...head, sum: { aggregationTemporality: TEMPORALITY_CUMULATIVE, isMonotonic: true, dataPoints } }
      : { ...head, gauge: { dataPoints } };
  });
  return JSON.stringify({ resourceMetrics: [{ resource, scopeMetrics: [{ scope, metrics }] }] });
}

export function tracesJson(e: TracesExport): string {
  const { resource, scope } = jsonContext(e);
  const spans = e.spans.map(
    (s): Json => ({
      traceId: hex(s.traceId),
      spanId: hex(s.spanId),
      ...(s.parentSpanId ? { parentSpanId: hex(s.parentSpanId) } : {}),
      flags: s.parentSpanId ? FLAGS_LOCAL_PARENT : FLAGS_ROOT,
      name: s.name,
      kind: SPAN_KIND[s.kind],
      startTimeUnixNano: nanos(s.start).toString(),
      endTimeUnixNano: nanos(s.end).toString(),
      attributes: jsonAttributes(s.attributes),
      ...(s.error !== undefined ? { status: { code: STATUS_ERROR, message: s.error } } : {}),
    }),
  );
  return JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope, spans }] }] });
}
