// OTLP/HTTP export against a loopback receiver that decodes every body with the official field
// numbers: the /metrics set arrives under the same names in protobuf and JSON (same data both ways),
// with the configured headers and resource; spans keep their parent links; failures are logged
// once per kind and never thrown; shutdown sends what is left.
import { afterAll, describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config/schema.ts";
import {
  OtlpExporter,
  type OtlpSettings,
  otlpSettings,
  signalUrl,
} from "../../src/telemetry/otlp-exporter.ts";
import { createProductMetrics } from "../../src/telemetry/product-metrics.ts";
import { metricsIn, spansIn, startOtlpReceiver } from "../support/otlp-receiver.ts";

const receiver = await startOtlpReceiver();
afterAll(() => receiver.stop());

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

/** Reads a decoded body by keys and list indices (undefined where the path leads nowhere). */
function get(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const k of path)
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}
type Point = Record<string, unknown>;

function settings(over: Partial<OtlpSettings> = {}): OtlpSettings {
  return {
    endpoint: `${receiver.url}/`,
    protocol: "http/protobuf",
    headers: { authorization: "Bearer otlp-test-token", "x-tenant": "library" },
    timeoutMs: 2000,
    intervalMs: 60_000,
    resource: { "service.name": "docstokg-test", "deployment.environment": "ci" },
    scope: { name: "docstokg", version: "9.9.9" },
    ...over,
  };
}

function logSink() {
  const lines: { level: "warn" | "debug"; text: string }[] = [];
  return {
    lines,
    warn: (text: string) => lines.push({ level: "warn", text }),
    debug: (text: string) => lines.push({ level: "debug", text }),
  };
}

/** A registry with a value in every kind of metric. */
function sampleMetrics() {
  const m = createProductMetrics({
    stats: () => ({ counts: { queued: 3, in_progress: 1, done: 5, error: 0, skipped: 0 }, paused: false }),
  });
  m.completions.inc({ state: "done", reason: "ok" }, 5);
  m.completions.inc({ state: "error", reason: "not_found" });
  m.bytes.inc(undefined, 123_456);
  m.downloadSeconds.observe(undefined, 0.07);
  m.downloadSeconds.observe(undefined, 0.3);
  m.downloadSeconds.observe(undefined, 9999);
  m.recordRequest("metadata", 200, 3);
  return m;
}

/** Metric names as /metrics declares them (`# TYPE name kind`). */
async function prometheusNames(render: () => Promise<string>): Promise<Map<string, string>> {
  const text = await render();
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => [x[1] as string, x[2] as string]));
}

async function exportOnce(protocol: OtlpSettings["protocol"]) {
  const m = sampleMetrics();
  const before = receiver.received.length;
  const log = logSink();
  const exporter = new OtlpExporter({
    settings: settings({ protocol }),
    registry: m.registry,
    log,
    clock: () => T0 + 1000,
    startMs: T0,
  });
  await exporter.exportMetrics();
  expect(log.lines).toEqual([]);
  const r = receiver.received.slice(before).find((x) => x.path === "/v1/metrics");
  if (!r) throw new Error("no metrics request arrived");
  return { r, m };
}

describe("metrics", () => {
  test("every metric served on /metrics arrives on /v1/metrics under its name, with its kind and values", async () => {
    const { r, m } = await exportOnce("http/protobuf");
    expect(r.encoding).toBe("protobuf");
    expect(r.headers["content-type"]).toBe("application/x-protobuf");
    const names = await prometheusNames(() => m.registry.render());
    const got = metricsIn(r);
    expect(got.map((x) => x.name).sort()).toEqual([...names.keys()].sort());
    const kinds = { counter: "sum", gauge: "gauge", histogram: "histogram" } as Record<string, string>;
    for (const x of got) expect(x.kind).toBe(kinds[names.get(x.name) as string] as never);

    const byName = new Map(got.map((x) => [x.name, x.metric]));
    const completions = byName.get("docstokg_job_completions_total");
    expect(get(completions, "sum", "isMonotonic")).toBe(true);
    expect(get(completions, "sum", "aggregationTemporality")).toBe(2); // CUMULATIVE
    const points = get(completions, "sum", "dataPoints") as Point[];
    const done = points.find((p) => JSON.stringify(p.attributes).includes('"done"'));
    expect(done?.asDouble).toBe(5);
    expect(done?.startTimeUnixNano).toBe(`${BigInt(T0) * 1_000_000n}`);
    expect(done?.timeUnixNano).toBe(`${BigInt(T0 + 1000) * 1_000_000n}`);
    expect(done?.attributes).toEqual([
      { key: "state", value: { stringValue: "done" } },
      { key: "reason", value: { stringValue: "ok" } },
    ]);
    // Collected at export time, as for a scrape.
    const jobs = get(byName.get("docstokg_jobs"), "gauge", "dataPoints") as Point[];
    expect(jobs.find((p) => JSON.stringify(p.attributes).includes('"queued"'))?.asDouble).toBe(3);

    const hist = get(byName.get("docstokg_download_duration_seconds"), "histogram");
    expect(get(hist, "aggregationTemporality")).toBe(2);
    const dp = get(hist, "dataPoints", 0) as Point;
    expect(dp.count).toBe("3");
    expect(dp.sum as number).toBeCloseTo(9999.37, 6);
    expect(dp.explicitBounds).toEqual([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]);
    // Per bucket (not cumulative), one more than the bounds: 0.07 → (0.05, 0.1], 0.3 → (0.25, 0.5], 9999 → above all.
    expect(dp.bucketCounts).toEqual(["0", "1", "0", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "1"]);
    expect(get(byName.get("docstokg_downloaded_bytes_total"), "unit")).toBe("By");
  });

  test("OTEL_EXPORTER_OTLP_PROTOCOL=http/json sends the same data as JSON", async () => {
    const proto = await exportOnce("http/protobuf");
    const json = await exportOnce("http/json");
    expect(json.r.encoding).toBe("json");
    expect(json.r.headers["content-type"]).toBe("application/json");
    expect(json.r.body).toEqual(proto.r.body);
    expect(metricsIn(json.r).length).toBeGreaterThan(5);
  });

  test("headers, resource attributes and the scope go with every request", async () => {
    const { r } = await exportOnce("http/protobuf");
    expect(r.headers.authorization).toBe("Bearer otlp-test-token");
    expect(r.headers["x-tenant"]).toBe("library");
    expect(r.headers["user-agent"]).toBe("docstokg/9.9.9");
    const [first] = metricsIn(r);
    expect(first?.resource).toEqual({ "service.name": "docstokg-test", "deployment.environment": "ci" });
    const scope = get(r.body, "resourceMetrics", 0, "scopeMetrics", 0, "scope");
    expect(scope).toEqual({ name: "docstokg", version: "9.9.9" });
  });

  test("sent every interval without being asked", async () => {
    const before = receiver.received.length;
    const exporter = new OtlpExporter({
      settings: settings({ intervalMs: 30 }),
      registry: sampleMetrics().registry,
      log: logSink(),
    });
    exporter.start();
    try {
      await receiver.waitFor((x) => x.path === "/v1/metrics" && receiver.received.indexOf(x) >= before, 5000);
    } finally {
      await exporter.shutdown();
    }
  });
});

describe("traces", () => {
  test("spans of one trace share its id, children name their parent; kinds, status and attributes arrive", async () => {
    for (const protocol of ["http/protobuf", "http/json"] as const) {
      const before = receiver.received.length;
      let clock = T0;
      const exporter = new OtlpExporter({
        settings: settings({ protocol }),
        registry: sampleMetrics().registry,
        log: logSink(),
        clock: () => clock,
      });
      const t = exporter.tracer;
      const job = t.startSpan("job", { attributes: { "job.id": 7, "artifact.id": "doi:10.1/x" } });
      const lease = t.startSpan("lease", { parent: job, startTime: T0 - 5 });
      lease.end();
      const tier = t.startSpan("tier 1", { parent: job, attributes: { tier: 1 } });
      clock += 20;
      const dl = t.startSpan("download", { parent: tier, kind: "client", attributes: { host: "a.test" } });
      clock += 30;
      dl.set({ status: 404, bytes: 0, reason: "not_found" }).fail("not_found").end();
      tier.end();
      job.set({ reason: "ok", stale: undefined }).end();
      const other = t.startSpan("job");
      other.end();
      await exporter.shutdown();
      const r = await receiver.waitFor(
        (x) => x.path === "/v1/traces" && receiver.received.indexOf(x) >= before,
        5000,
      );
      expect(r.encoding).toBe(protocol === "http/json" ? "json" : "protobuf");
      const spans = spansIn(r);
      expect(spans.map((s) => s.name)).toEqual(["lease", "download", "tier 1", "job", "job"]);
      const by = new Map(
        spans.map((s) => [s.name === "job" && !s.attributes["job.id"] ? "other" : s.name, s]),
      );
      const root = by.get("job");
      expect(root?.parentSpanId).toBeUndefined();
      expect(root?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(root?.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(by.get("lease")?.parentSpanId).toBe(root?.spanId as string);
      expect(by.get("tier 1")?.parentSpanId).toBe(root?.spanId as string);
      expect(by.get("download")?.parentSpanId).toBe(by.get("tier 1")?.spanId as string);
      for (const name of ["lease", "tier 1", "download"])
        expect(by.get(name)?.traceId).toBe(root?.traceId as string);
      expect(by.get("other")?.traceId).not.toBe(root?.traceId as string);
      const d = by.get("download");
      expect(d?.kind).toBe(3); // SPAN_KIND_CLIENT
      expect(root?.kind).toBe(1); // SPAN_KIND_INTERNAL
      expect(d?.attributes).toEqual({ host: "a.test", status: 404, bytes: 0, reason: "not_found" });
      expect(d?.status).toEqual({ code: 2, message: "not_found" });
      expect(d && d.end - d.start).toBe(30_000_000n);
      expect(by.get("lease")?.start).toBe(BigInt(T0 - 5) * 1_000_000n);
      expect(root?.attributes).toEqual({ "job.id": 7, "artifact.id": "doi:10.1/x", reason: "ok" });
      expect(root?.resource["service.name"]).toBe("docstokg-test");
    }
  });

  test("a full batch goes at once; beyond the queue limit spans are dropped and that is said once", async () => {
    const before = receiver.received.length;
    const log = logSink();
    const exporter = new OtlpExporter({
      settings: settings(),
      registry: sampleMetrics().registry,
      log,
      spanBatch: 2,
      maxQueuedSpans: 3,
    });
    exporter.tracer.startSpan("a").end();
    exporter.tracer.startSpan("b").end();
    const r = await receiver.waitFor(
      (x) => x.path === "/v1/traces" && receiver.received.indexOf(x) >= before,
    );
    expect(spansIn(r).map((s) => s.name)).toEqual(["a", "b"]);
    await exporter.shutdown();
    for (const n of ["c", "d", "e", "f", "g"]) exporter.tracer.startSpan(n).end();
    expect(log.lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(log.lines[0]?.text).toContain("span queue full");
  });
});

describe("failures and shutdown", () => {
  test("an error answer is a warning once per kind, then debug; nothing is thrown", async () => {
    const log = logSink();
    const exporter = new OtlpExporter({ settings: settings(), registry: sampleMetrics().registry, log });
    receiver.answer(503);
    try {
      await exporter.exportMetrics();
      await exporter.exportMetrics();
      exporter.tracer.startSpan("x").end();
      await exporter.exportSpans();
    } finally {
      receiver.answer(200);
    }
    expect(log.lines.map((l) => l.level)).toEqual(["warn", "debug", "warn"]);
    expect(log.lines[0]?.text).toBe(
      `OTLP export of metrics to ${receiver.url}/v1/metrics: the collector answered HTTP 503; the run goes on without it (repeats of this failure are logged at debug level)`,
    );
    expect(log.lines[2]?.text).toContain("/v1/traces: the collector answered HTTP 503");
    // No header value in any line.
    expect(log.lines.some((l) => l.text.includes("otlp-test-token"))).toBe(false);
  });

  test("an unreachable collector is logged once, and a slow one is cut off by the timeout", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadUrl = `http://127.0.0.1:${closed.port}`;
    await closed.stop(true);
    const log = logSink();
    const dead = new OtlpExporter({
      settings: settings({ endpoint: deadUrl }),
      registry: sampleMetrics().registry,
      log,
    });
    await dead.exportMetrics();
    await dead.exportMetrics();
    expect(log.lines.map((l) => l.level)).toEqual(["warn", "debug"]);
    expect(log.lines[0]?.text).toContain("the request failed");

    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const slow = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async () => {
        await held;
        return new Response("");
      },
    });
    try {
      const slowLog = logSink();
      const e = new OtlpExporter({
        settings: settings({ endpoint: `http://127.0.0.1:${slow.port}`, timeoutMs: 100 }),
        registry: sampleMetrics().registry,
        log: slowLog,
      });
      await e.exportMetrics();
      expect(slowLog.lines).toEqual([
        {
          level: "warn",
          text: `OTLP export of metrics to http://127.0.0.1:${slow.port}/v1/metrics: no answer within 0.1 s; the run goes on without it (repeats of this failure are logged at debug level)`,
        },
      ]);
    } finally {
      release();
      await slow.stop(true);
    }
  });

  test("shutdown sends the metrics once more and every span still waiting", async () => {
    const before = receiver.received.length;
    const exporter = new OtlpExporter({
      settings: settings(),
      registry: sampleMetrics().registry,
      log: logSink(),
    });
    exporter.start();
    exporter.tracer.startSpan("last").end();
    await exporter.shutdown();
    const after = receiver.received.slice(before);
    expect(after.map((r) => r.path).sort()).toEqual(["/v1/metrics", "/v1/traces"]);
    expect(spansIn(after.find((r) => r.path === "/v1/traces") as never).map((s) => s.name)).toEqual(["last"]);
  });
});

describe("settings", () => {
  test("no endpoint, no export; the base URL gets /v1/<signal> after its own path", () => {
    expect(otlpSettings(defaultConfig(), { version: "1", instanceId: "h:1:a", hostName: "h" })).toBeNull();
    expect(signalUrl("http://c.example:4318", "metrics")).toBe("http://c.example:4318/v1/metrics");
    expect(signalUrl("http://c.example:4318/otlp/", "traces")).toBe("http://c.example:4318/otlp/v1/traces");
  });

  test("service.name: the key, else the resource attribute, else docstokg; process facts underneath", () => {
    const facts = { version: "1.2.3", instanceId: "h:1:a", hostName: "h" };
    const config = defaultConfig();
    config.telemetry.otlp_endpoint = "http://c.example:4318";
    expect(otlpSettings(config, facts)?.resource).toEqual({
      "service.name": "docstokg",
      "service.version": "1.2.3",
      "service.instance.id": "h:1:a",
      "host.name": "h",
    });
    config.telemetry.otlp_resource_attributes = { "service.name": "from-attrs", "host.name": "given" };
    expect(otlpSettings(config, facts)?.resource).toMatchObject({
      "service.name": "from-attrs",
      "host.name": "given",
    });
    config.telemetry.otlp_service_name = "from-key";
    expect(otlpSettings(config, facts)?.resource["service.name"]).toBe("from-key");
  });
});
