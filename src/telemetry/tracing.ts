// Spans without global state: a Tracer is passed down (runner → pipeline → plan) and a span's parent
// is named explicitly. The default tracer records nothing; the recording one hands each ended span
// to a sink (the OTLP exporter's batch). One trace per leased job, rooted at the `job` span.

export type AttributeValue = string | number | boolean;
/** Undefined and null values are left out, so callers can pass optional facts as they are. */
export type Attributes = Record<string, AttributeValue | null | undefined>;

export interface Span {
  /** Adds or replaces attributes. */
  set(attributes: Attributes): Span;
  /** Marks the span failed (status ERROR) with a short reason. */
  fail(message: string): Span;
  /** Ends the span (at `at`, epoch ms, or now); later calls do nothing. */
  end(at?: number): void;
}

export interface SpanOptions {
  /** Omitted: the span starts a new trace. */
  parent?: Span;
  attributes?: Attributes;
  /** Epoch ms; default now. */
  startTime?: number;
  /** `client` for a request to another service (resolver API, download); default `internal`. */
  kind?: "internal" | "client";
}

export interface Tracer {
  startSpan(name: string, options?: SpanOptions): Span;
  /** The tracer's clock (epoch ms), for a span that starts before its parent is known. */
  now(): number;
}

const NOOP_SPAN: Span = {
  set: () => NOOP_SPAN,
  fail: () => NOOP_SPAN,
  end: () => {},
};

/** Records nothing and costs next to nothing: the default everywhere. */
export const noopTracer: Tracer = {
  startSpan: () => NOOP_SPAN,
  now: () => 0,
};

/** An ended span as the exporter encodes it. */
export interface FinishedSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  name: string;
  kind: "internal" | "client";
  /** Epoch ms (fractional). */
  start: number;
  end: number;
  attributes: Record<string, AttributeValue>;
  /** Set when the span failed. */
  error?: string;
}

function randomId(bytes: number): Uint8Array {
  const id = new Uint8Array(bytes);
  // An all-zero id is invalid in OTLP; the chance is negligible but the fix is one loop.
  do crypto.getRandomValues(id);
  while (id.every((b) => b === 0));
  return id;
}

function merge(into: Record<string, AttributeValue>, attributes: Attributes | undefined): void {
  if (!attributes) return;
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined || v === null || (typeof v === "number" && !Number.isFinite(v))) continue;
    into[k] = v;
  }
}

class RecordingSpan implements Span {
  readonly data: FinishedSpan;
  private ended = false;

  constructor(
    private readonly tracer: RecordingTracer,
    name: string,
    o: SpanOptions,
  ) {
    const parent = o.parent instanceof RecordingSpan ? o.parent : undefined;
    this.data = {
      traceId: parent ? parent.data.traceId : randomId(16),
      spanId: randomId(8),
      parentSpanId: parent?.data.spanId,
      name,
      kind: o.kind ?? "internal",
      start: o.startTime ?? tracer.now(),
      end: 0,
      attributes: {},
    };
    merge(this.data.attributes, o.attributes);
  }

  set(attributes: Attributes): Span {
    merge(this.data.attributes, attributes);
    return this;
  }

  fail(message: string): Span {
    this.data.error = message;
    return this;
  }

  end(at?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.data.end = Math.max(this.data.start, at ?? this.tracer.now());
    this.tracer.finished(this.data);
  }
}

/** Creates real spans and passes each one, once ended, to `sink`. */
export class RecordingTracer implements Tracer {
  readonly now: () => number;

  constructor(
    private readonly sink: (span: FinishedSpan) => void,
    clock: () => number = () => performance.timeOrigin + performance.now(),
  ) {
    this.now = clock;
  }

  startSpan(name: string, options: SpanOptions = {}): Span {
    return new RecordingSpan(this, name, options);
  }

  /** @internal called by a span as it ends. */
  finished(span: FinishedSpan): void {
    this.sink(span);
  }
}
