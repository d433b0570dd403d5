// A strict protobuf decoder for the OTLP export requests, driven by field numbers and types
// transcribed by hand from the official definitions (github.com/open-telemetry/opentelemetry-proto,
// tag v1.11.0): opentelemetry/proto/collector/metrics/v1/metrics_service.proto,
// collector/trace/v1/trace_service.proto, metrics/v1/metrics.proto, trace/v1/trace.proto,
// common/v1/common.proto and resource/v1/resource.proto. It is independent of src/ on purpose: an
// unknown field or a wire type that does not match the declared type is an error. Output uses the
// JSON mapping's names and forms (lowerCamelCase, 64-bit integers as decimal strings, ids in hex), so
// a protobuf body and a JSON body of the same data compare equal after `withoutDefaults`.

type Scalar = "string" | "bytes" | "bool" | "enum" | "uint32" | "int64" | "int32" | "fixed64" | "fixed32";
type FieldType = Scalar | "double" | "sfixed64" | { message: string };
interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
}

const m = (message: string) => ({ message });

/** message name → field number → field; only the messages docstokg's requests can contain. */
export const OTLP_MESSAGES: Record<string, Record<number, Field>> = {
  // collector/metrics/v1/metrics_service.proto
  ExportMetricsServiceRequest: { 1: { name: "resourceMetrics", type: m("ResourceMetrics"), repeated: true } },
  // collector/trace/v1/trace_service.proto
  ExportTraceServiceRequest: { 1: { name: "resourceSpans", type: m("ResourceSpans"), repeated: true } },
  // metrics/v1/metrics.proto
  ResourceMetrics: {
    1: { name: "resource", type: m("Resource") },
    2: { name: "scopeMetrics", type: m("ScopeMetrics"), repeated: true },
    3: { name: "schemaUrl", type: "string" },
  },
  ScopeMetrics: {
    1: { name: "scope", type: m("InstrumentationScope") },
    2: { name: "metrics", type: m("Metric"), repeated: true },
    3: { name: "schemaUrl", type: "string" },
  },
  Metric: {
    1: { name: "name", type: "string" },
    2: { name: "description", type: "string" },
    3: { name: "unit", type: "string" },
    5: { name: "gauge", type: m("Gauge") },
    7: { name: "sum", type: m("Sum") },
    9: { name: "histogram", type: m("Histogram") },
    12: { name: "metadata", type: m("KeyValue"), repeated: true },
  },
  Gauge: { 1: { name: "dataPoints", type: m("NumberDataPoint"), repeated: true } },
  Sum: {
    1: { name: "dataPoints", type: m("NumberDataPoint"), repeated: true },
    2: { name: "aggregationTemporality", type: "enum" },
    3: { name: "isMonotonic", type: "bool" },
  },
  Histogram: {
    1: { name: "dataPoints", type: m("HistogramDataPoint"), repeated: true },
    2: { name: "aggregationTemporality", type: "enum" },
  },
  NumberDataPoint: {
    7: { name: "attributes", type: m("KeyValue"), repeated: true },
    2: { name: "startTimeUnixNano", type: "fixed64" },
    3: { name: "timeUnixNano", type: "fixed64" },
    4: { name: "asDouble", type: "double" },
    6: { name: "asInt", type: "sfixed64" },
    8: { name: "flags", type: "uint32" },
  },
  HistogramDataPoint: {
    9: { name: "attributes", type: m("KeyValue"), repeated: true },
    2: { name: "startTimeUnixNano", type: "fixed64" },
    3: { name: "timeUnixNano", type: "fixed64" },
    4: { name: "count", type: "fixed64" },
    5: { name: "sum", type: "double" },
    6: { name: "bucketCounts", type: "fixed64", repeated: true },
    7: { name: "explicitBounds", type: "double", repeated: true },
    10: { name: "flags", type: "uint32" },
    11: { name: "min", type: "double" },
    12: { name: "max", type: "double" },
  },
  // trace/v1/trace.proto
  ResourceSpans: {
    1: { name: "resource", type: m("Resource") },
    2: { name: "scopeSpans", type: m("ScopeSpans"), repeated: true },
    3: { name: "schemaUrl", type: "string" },
  },
  ScopeSpans: {
    1: { name: "scope", type: m("InstrumentationScope") },
    2: { name: "spans", type: m("Span"), repeated: true },
    3: { name: "schemaUrl", type: "string" },
  },
  Span: {
    1: { name: "traceId", type: "bytes" },
    2: { name: "spanId", type: "bytes" },
    3: { name: "traceState", type: "string" },
    4: { name: "parentSpanId", type: "bytes" },
    16: { name: "flags", type: "fixed32" },
    5: { name: "name", type: "string" },
    6: { name: "kind", type: "enum" },
    7: { name: "startTimeUnixNano", type: "fixed64" },
    8: { name: "endTimeUnixNano", type: "fixed64" },
    9: { name: "attributes", type: m("KeyValue"), repeated: true },
    10: { name: "droppedAttributesCount", type: "uint32" },
    15: { name: "status", type: m("Status") },
  },
  Status: { 2: { name: "message", type: "string" }, 3: { name: "code", type: "enum" } },
  // resource/v1/resource.proto
  Resource: {
    1: { name: "attributes", type: m("KeyValue"), repeated: true },
    2: { name: "droppedAttributesCount", type: "uint32" },
  },
  // common/v1/common.proto
  InstrumentationScope: {
    1: { name: "name", type: "string" },
    2: { name: "version", type: "string" },
    3: { name: "attributes", type: m("KeyValue"), repeated: true },
  },
  KeyValue: { 1: { name: "key", type: "string" }, 2: { name: "value", type: m("AnyValue") } },
  AnyValue: {
    1: { name: "stringValue", type: "string" },
    2: { name: "boolValue", type: "bool" },
    3: { name: "intValue", type: "int64" },
    4: { name: "doubleValue", type: "double" },
    5: { name: "arrayValue", type: m("ArrayValue") },
    6: { name: "kvlistValue", type: m("KeyValueList") },
    7: { name: "bytesValue", type: "bytes" },
  },
  ArrayValue: { 1: { name: "values", type: m("AnyValue"), repeated: true } },
  KeyValueList: { 1: { name: "values", type: m("KeyValue"), repeated: true } },
};

/** The wire type each declared type must arrive with (packed repeated scalars come as 2 too). */
function wireOf(t: FieldType): number {
  if (typeof t === "object" || t === "string" || t === "bytes") return 2;
  if (t === "double" || t === "fixed64" || t === "sfixed64") return 1;
  if (t === "fixed32") return 5;
  return 0;
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Error("truncated field");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  fixed64(): bigint {
    const v = this.view.getBigUint64(this.pos, true);
    this.take(8);
    return v;
  }
  double(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.take(8);
    return v;
  }
  fixed32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.take(4);
    return v;
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function scalar(r: Reader, t: FieldType): unknown {
  switch (t) {
    case "double":
      return r.double();
    case "fixed64":
      return r.fixed64().toString();
    case "sfixed64":
      return BigInt.asIntN(64, r.fixed64()).toString();
    case "fixed32":
      return r.fixed32();
    case "bool":
      return r.varint() !== 0n;
    case "int64":
      return BigInt.asIntN(64, r.varint()).toString();
    case "int32":
    case "enum":
      return Number(BigInt.asIntN(32, r.varint()));
    case "uint32":
      return Number(r.varint());
    default:
      throw new Error(`not a scalar: ${JSON.stringify(t)}`);
  }
}

/** Decode `bytes` as message `type`; throws on anything the definitions do not allow. */
export function decodeMessage(type: string, bytes: Uint8Array): Record<string, unknown> {
  const fields = OTLP_MESSAGES[type];
  if (!fields) throw new Error(`unknown message ${type}`);
  const out: Record<string, unknown> = {};
  const r = new Reader(bytes);
  while (!r.done()) {
    const tag = Number(r.varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    const f = fields[no];
    if (!f) throw new Error(`${type}: unknown field ${no}`);
    const expected = wireOf(f.type);
    const packed = f.repeated && wire === 2 && expected !== 2;
    if (wire !== expected && !packed)
      throw new Error(`${type}.${f.name} (${no}): wire type ${wire}, expected ${expected}`);
    let values: unknown[];
    if (typeof f.type === "object") {
      const len = Number(r.varint());
      values = [decodeMessage(f.type.message, r.take(len))];
    } else if (f.type === "string") {
      values = [new TextDecoder("utf-8", { fatal: true }).decode(r.take(Number(r.varint())))];
    } else if (f.type === "bytes") {
      values = [hex(r.take(Number(r.varint())))];
    } else if (packed) {
      const inner = new Reader(r.take(Number(r.varint())));
      values = [];
      while (!inner.done()) values.push(scalar(inner, f.type));
    } else values = [scalar(r, f.type)];
    if (f.repeated) out[f.name] = [...((out[f.name] as unknown[]) ?? []), ...values];
    else {
      if (f.name in out && typeof f.type !== "object") throw new Error(`${type}.${f.name} given twice`);
      out[f.name] = values[0];
    }
  }
  return out;
}

/**
 * The value with proto3 defaults removed (empty strings and lists, 0, "0", false), so a decoded
 * protobuf body and a parsed JSON body of the same data compare equal.
 */
export function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === "" || v === 0 || v === "0" || v === false || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = withoutDefaults(v);
  }
  return out;
}
