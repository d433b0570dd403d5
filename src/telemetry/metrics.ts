// One metrics registry: counters, gauges and fixed-bucket histograms with bounded label sets,
// rendered in the Prometheus text exposition format 0.0.4. Cardinality is capped per metric so a
// stray label value (a host, a status) can never grow memory or the scrape without bound.

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label values beyond a metric's series cap are folded into this value for every label. */
export const OVERFLOW_LABEL = "other";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Labels = Record<string, string>;

interface MetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** Most distinct label sets kept; later ones are counted under `other` (default 500). */
  maxSeries?: number;
}

interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds, strictly increasing; `+Inf` is implicit. */
  buckets: readonly number[];
}

type MetricType = "counter" | "gauge" | "histogram";

/** One metric's current values as data (the OTLP exporter's input), the same set render() prints. */
export type MetricSnapshot =
  | { type: "counter" | "gauge"; name: string; help: string; points: { labels: Labels; value: number }[] }
  | {
      type: "histogram";
      name: string;
      help: string;
      /** Upper bounds without +Inf. */
      bounds: number[];
      /** `counts` per bucket, not cumulative, one more than `bounds` (the last is above every bound). */
      points: { labels: Labels; counts: number[]; sum: number; count: number }[];
    };

/** Formats a sample value the way Prometheus parses it (Go float syntax for the specials). */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function renderLabels(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? "")}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

abstract class Metric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  protected readonly series = new Map<string, { values: string[]; state: S }>();
  private readonly maxSeries: number;

  constructor(
    readonly type: MetricType,
    opts: MetricOptions<L>,
  ) {
    if (!METRIC_NAME.test(opts.name)) throw new Error(`invalid metric name "${opts.name}"`);
    for (const l of opts.labelNames ?? []) {
      if (!LABEL_NAME.test(l) || l.startsWith("__"))
        throw new Error(`invalid label name "${l}" on ${opts.name}`);
    }
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames ?? [];
    this.maxSeries = opts.maxSeries ?? 500;
  }

  protected abstract initial(): S;

  /** The series for these labels, created on first use; past the cap, the shared `other` series. */
  protected at(labels: Partial<Record<L, string>> | undefined): S {
    const values = this.labelNames.map((n) => String(labels?.[n] ?? ""));
    let key = values.join("\u0000");
    let entry = this.series.get(key);
    if (entry) return entry.state;
    if (this.series.size >= this.maxSeries) {
      const folded = this.labelNames.map(() => OVERFLOW_LABEL);
      key = folded.join("\u0000");
      entry = this.series.get(key);
      if (entry) return entry.state;
      entry = { values: folded, state: this.initial() };
    } else {
      entry = { values, state: this.initial() };
    }
    this.series.set(key, entry);
    return entry.state;
  }

  /** Forgets every series (gauges refilled from a snapshot at scrape time). */
  reset(): void {
    this.series.clear();
  }

  protected abstract samples(values: string[], state: S): string[];

  /** Every series as labels (empty values left out) and a copy of its state, for OTLP export. */
  protected seriesList(): { labels: Labels; state: S }[] {
    return [...this.series.values()].map(({ values, state }) => {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => {
        if (values[i]) labels[n] = values[i] as string;
      });
      return { labels, state };
    });
  }

  abstract snapshot(): MetricSnapshot;

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    const sorted = [...this.series.values()].sort((a, b) =>
      a.values.join("\u0000") < b.values.join("\u0000") ? -1 : 1,
    );
    for (const { values, state } of sorted) lines.push(...this.samples(values, state));
    return lines.join("\n");
  }
}

export class Counter<L extends string = never> extends Metric<L, { v: number }> {
  constructor(opts: MetricOptions<L>) {
    super("counter", opts);
    if (this.labelNames.length === 0) this.at(undefined);
  }
  protected initial() {
    return { v: 0 };
  }
  inc(labels?: Partial<Record<L, string>>, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name} can only increase (got ${by})`);
    this.at(labels).v += by;
  }
  get(labels?: Partial<Record<L, string>>): number {
    return this.at(labels).v;
  }
  protected samples(values: string[], s: { v: number }): string[] {
    return [`${this.name}${renderLabels(this.labelNames, values)} ${formatValue(s.v)}`];
  }
  snapshot(): MetricSnapshot {
    const points = this.seriesList().map(({ labels, state }) => ({ labels, value: state.v }));
    return { type: "counter", name: this.name, help: this.help, points };
  }
}

export class Gauge<L extends string = never> extends Metric<L, { v: number }> {
  constructor(opts: MetricOptions<L>) {
    super("gauge", opts);
    if (this.labelNames.length === 0) this.at(undefined);
  }
  protected initial() {
    return { v: 0 };
  }
  set(labels: Partial<Record<L, string>> | undefined, v: number): void {
    this.at(labels).v = v;
  }
  inc(labels?: Partial<Record<L, string>>, by = 1): void {
    this.at(labels).v += by;
  }
  dec(labels?: Partial<Record<L, string>>, by = 1): void {
    this.at(labels).v -= by;
  }
  get(labels?: Partial<Record<L, string>>): number {
    return this.at(labels).v;
  }
  protected samples(values: string[], s: { v: number }): string[] {
    return [`${this.name}${renderLabels(this.labelNames, values)} ${formatValue(s.v)}`];
  }
  snapshot(): MetricSnapshot {
    const points = this.seriesList().map(({ labels, state }) => ({ labels, value: state.v }));
    return { type: "gauge", name: this.name, help: this.help, points };
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L, HistogramState> {
  readonly buckets: readonly number[];
  constructor(opts: HistogramOptions<L>) {
    super("histogram", opts);
    if ((opts.labelNames ?? []).includes("le" as L))
      throw new Error(`histogram ${opts.name} cannot use label "le"`);
    const b = opts.buckets;
    if (b.length === 0 || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= (b[i - 1] as number)))) {
      throw new Error(`histogram ${opts.name} needs finite, strictly increasing buckets`);
    }
    this.buckets = [...b];
    if (this.labelNames.length === 0) this.at(undefined);
  }
  protected initial(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(labels: Partial<Record<L, string>> | undefined, v: number): void {
    if (Number.isNaN(v)) return;
    const s = this.at(labels);
    // Only the first matching bucket is counted; render() accumulates (le is cumulative).
    const i = this.buckets.findIndex((le) => v <= le);
    if (i >= 0) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += v;
    s.count += 1;
  }
  /** Count and sum for one label set (tests, report). */
  get(labels?: Partial<Record<L, string>>): { count: number; sum: number } {
    const s = this.at(labels);
    return { count: s.count, sum: s.sum };
  }
  protected samples(values: string[], s: HistogramState): string[] {
    const out: string[] = [];
    let cumulative = 0;
    this.buckets.forEach((le, i) => {
      cumulative += s.counts[i] ?? 0;
      out.push(
        `${this.name}_bucket${renderLabels(this.labelNames, values, ["le", formatValue(le)])} ${cumulative}`,
      );
    });
    out.push(`${this.name}_bucket${renderLabels(this.labelNames, values, ["le", "+Inf"])} ${s.count}`);
    out.push(`${this.name}_sum${renderLabels(this.labelNames, values)} ${formatValue(s.sum)}`);
    out.push(`${this.name}_count${renderLabels(this.labelNames, values)} ${s.count}`);
    return out;
  }
  snapshot(): MetricSnapshot {
    const points = this.seriesList().map(({ labels, state }) => {
      const counts = [...state.counts];
      counts.push(state.count - counts.reduce((a, b) => a + b, 0));
      return { labels, counts, sum: state.sum, count: state.count };
    });
    return { type: "histogram", name: this.name, help: this.help, bounds: [...this.buckets], points };
  }
}

/** Holds metrics by name and renders them; collectors refresh snapshot gauges right before a scrape. */
export class Registry {
  private readonly metrics = new Map<string, Metric<string, unknown>>();
  private readonly collectors: Array<() => void | Promise<void>> = [];

  /** `onCollectError` hears about a collector that threw (its gauges keep their last values). */
  constructor(private readonly onCollectError: (err: unknown) => void = () => {}) {}

  private add<M extends Metric<string, unknown>>(m: M): M {
    for (const existing of this.metrics.keys()) {
      // A histogram owns name_bucket/_sum/_count, so those names are taken too.
      if (existing === m.name || m.name.startsWith(`${existing}_`) || existing.startsWith(`${m.name}_`)) {
        const a = this.metrics.get(existing);
        if (existing === m.name || a?.type === "histogram" || m.type === "histogram") {
          throw new Error(`metric "${m.name}" clashes with "${existing}"`);
        }
      }
    }
    this.metrics.set(m.name, m);
    return m;
  }

  counter<L extends string = never>(opts: MetricOptions<L>): Counter<L> {
    return this.add(new Counter<L>(opts));
  }
  gauge<L extends string = never>(opts: MetricOptions<L>): Gauge<L> {
    return this.add(new Gauge<L>(opts));
  }
  histogram<L extends string = never>(opts: HistogramOptions<L>): Histogram<L> {
    return this.add(new Histogram<L>(opts));
  }

  /** Registers a function run before every render (e.g. fill job counts from the store). */
  onCollect(fn: () => void | Promise<void>): void {
    this.collectors.push(fn);
  }

  private async runCollectors(): Promise<void> {
    for (const c of this.collectors) {
      try {
        await c();
      } catch (err) {
        this.onCollectError(err);
      }
    }
  }

  /** The exposition text; a failing collector leaves its gauges at their last values. */
  async render(): Promise<string> {
    await this.runCollectors();
    const parts = [...this.metrics.values()].map((m) => m.render());
    return `${parts.join("\n")}\n`;
  }

  /** The same metrics as data, collectors run first (OTLP export). */
  async snapshot(): Promise<MetricSnapshot[]> {
    await this.runCollectors();
    return [...this.metrics.values()].map((m) => m.snapshot());
  }
}
