// `docstokg queue run --drain` with OpenTelemetry's standard variables, over the simulated scholarly
// web, reporting to a loopback receiver that decodes what arrives: the /metrics set at shutdown
// (the interval is a minute, so only the final flush can deliver it), with headers and resource,
// and one trace per job whose lease, tier, resolver, landing and download spans link up.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createProductMetrics } from "../../src/telemetry/product-metrics.ts";
import { startApis } from "../support/apis.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import { buildCatalogue } from "../support/catalogue.ts";
import { prepareRunDir } from "../support/catalogue-run.ts";
import { metricsIn, type ReceivedSpan, spansIn, startOtlpReceiver } from "../support/otlp-receiver.ts";
import { startWeb } from "../support/web.ts";
import { openState } from "./harness.ts";

// Works that end in one lease each (no transient failures, so no second trace for a retry).
const works = buildCatalogue(1).filter((w) => !("transient" in w.expect));
const web = await startWeb();
const sim = await startApis(web, works);
const receiver = await startOtlpReceiver();
const dirs: string[] = [];
afterAll(async () => {
  await receiver.stop();
  await web.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SECRET = "otlp-e2e-secret-value";

test("queue run --drain exports the /metrics set at shutdown and one linked trace per job", async () => {
  const dir = emptyDir("docstokg-otlp-");
  dirs.push(dir);
  const run = prepareRunDir(dir, sim, works, { orchestrator: { drain_max_delay_s: 3 } });
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${SECRET},x-scope-orgid=library`,
    OTEL_SERVICE_NAME: "docstokg-e2e",
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test,service.name=ignored",
  };
  expect(
    (await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], { cwd: dir, env })).code,
  ).toBe(0);
  const r = await runBinary(
    ["queue", "run", "--drain", "--workers", "6", "--log-level", "debug", "--config", run.configFile],
    { cwd: dir, env },
  );
  expect(r.stderr).toContain("drained");
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`OTLP export to ${receiver.url}/ (http/protobuf)`);
  expect(r.stderr).not.toContain(SECRET);
  expect(r.stderr).not.toContain("OTLP export of");

  // The jobs as the database knows them: id → scenario and final state.
  const db = openState(run.stateDir);
  const jobs = new Map(
    db
      .query<{ id: number; scenario: string; state: string; reason: string | null }, []>(
        "SELECT id, json_extract(artifact, '$.meta.scenario') AS scenario, state, last_reason AS reason FROM jobs",
      )
      .all()
      .map((j) => [j.id, j]),
  );
  db.close();
  expect(jobs.size).toBe(works.length);

  // Metrics: one request at shutdown, protobuf, every name /metrics serves, with headers and resource.
  const metricRequests = receiver.received.filter((x) => x.path === "/v1/metrics");
  expect(metricRequests.length).toBe(1);
  const m = metricRequests[0];
  if (!m) throw new Error("unreachable");
  expect(m.encoding).toBe("protobuf");
  expect(m.headers.authorization).toBe(`Bearer ${SECRET}`);
  expect(m.headers["x-scope-orgid"]).toBe("library");
  const served = await createProductMetrics().registry.render();
  const names = [...served.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]);
  const metrics = metricsIn(m);
  expect(metrics.map((x) => x.name).sort()).toEqual(names.sort() as string[]);
  const resource = metrics[0]?.resource ?? {};
  expect(resource["service.name"]).toBe("docstokg-e2e");
  expect(resource["deployment.environment"]).toBe("test");
  expect(String(resource["service.instance.id"])).toMatch(/^.+:\d+:[0-9a-f]{8}$/);
  const completions = metrics.find((x) => x.name === "docstokg_job_completions_total")?.metric as {
    sum: { dataPoints: { asDouble?: number }[] };
  };
  expect(completions.sum.dataPoints.reduce((a, p) => a + (p.asDouble ?? 0), 0)).toBe(works.length);

  // Traces: every span that arrived, grouped by trace.
  const traceRequests = receiver.received.filter((x) => x.path === "/v1/traces");
  expect(traceRequests.every((x) => x.headers.authorization === `Bearer ${SECRET}`)).toBe(true);
  const spans = traceRequests.flatMap(spansIn);
  const traces = new Map<string, ReceivedSpan[]>();
  for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
  expect(traces.size).toBe(works.length);

  const byJob = new Map<number, ReceivedSpan[]>();
  for (const trace of traces.values()) {
    const roots = trace.filter((s) => s.parentSpanId === undefined);
    expect(roots.map((s) => s.name)).toEqual(["job"]);
    const root = roots[0] as ReceivedSpan;
    byJob.set(Number(root.attributes["job.id"]), trace);
    const ids = new Map(trace.map((s) => [s.spanId, s]));
    // Every parent is in the same trace; lease and tiers hang off the root, requests off a tier.
    for (const s of trace) {
      if (s === root) continue;
      const parent = ids.get(s.parentSpanId as string)?.name.split(" ")[0] ?? "missing";
      const want = s.name === "lease" || s.name.startsWith("tier ") ? "job" : "tier";
      expect(`${s.name} under ${parent}`).toBe(`${s.name} under ${want}`);
      expect(s.start).toBeGreaterThanOrEqual(root.start);
      expect(s.end).toBeLessThanOrEqual(root.end);
    }
    expect(trace.filter((s) => s.name === "lease")).toHaveLength(1);
    expect(trace.some((s) => s.name.startsWith("tier "))).toBe(true);
    expect(root.resource["service.name"]).toBe("docstokg-e2e");
  }
  // One trace per job, each ending as the job did.
  expect([...byJob.keys()].sort((a, b) => a - b)).toEqual([...jobs.keys()].sort((a, b) => a - b));
  for (const [id, trace] of byJob) {
    const job = jobs.get(id);
    const root = trace.find((s) => s.name === "job") as ReceivedSpan;
    expect(root.attributes.state).toBe(job?.state as string);
    expect(root.attributes.reason).toBe(job?.reason as string);
    expect(root.status?.code === 2).toBe(job?.state === "error");
  }

  const of = (scenario: string) => {
    const job = [...jobs.values()].find((j) => j.scenario === scenario);
    return byJob.get(job?.id ?? -1) ?? [];
  };
  // Obtained through Unpaywall: the resolver request and the download, with host, status, bytes, reason.
  const unpaywall = of("unpaywall_pdf");
  const asked = unpaywall.find((s) => s.name === "resolver unpaywall");
  expect(asked?.kind).toBe(3); // CLIENT
  expect(asked?.attributes).toMatchObject({ resolver: "unpaywall", status: 200, reason: "ok", found: 1 });
  expect(Number(asked?.attributes.bytes)).toBeGreaterThan(0);
  expect(String(asked?.attributes.host)).toMatch(/^127\.0\.0\.\d+:\d+$/);
  const downloads = unpaywall.filter((s) => s.name === "download" && s.attributes.state === "ok");
  expect(downloads).toHaveLength(1);
  expect(downloads[0]?.attributes).toMatchObject({ resolver: "unpaywall", status: 200, reason: "ok" });
  expect(Number(downloads[0]?.attributes.bytes)).toBeGreaterThan(100);
  // A landing page scraped, then its PDF.
  const scraped = of("own_landing_urls");
  expect(scraped.find((s) => s.name === "landing")?.attributes).toMatchObject({
    state: "scraped",
    status: 200,
  });
  expect(Number(scraped.find((s) => s.name === "landing")?.attributes.bytes)).toBeGreaterThan(0);
  expect(scraped.some((s) => s.name === "download" && s.attributes.state === "ok")).toBe(true);
  // A dead link: the download span failed with its status and reason.
  const dead = of("dead_pdf_link").find((s) => s.name === "download");
  expect(dead?.attributes).toMatchObject({ status: 404, reason: "not_found", state: "failed" });
  expect(dead?.status).toEqual({ code: 2, message: "not_found" });
}, 120_000);

test("http/json, and the config key wins over OTEL_EXPORTER_OTLP_ENDPOINT (base path kept)", async () => {
  const dir = emptyDir("docstokg-otlp-json-");
  dirs.push(dir);
  const few = works.filter((w) => ["direct_pdf", "unknown_doi"].includes(w.scenario));
  const run = prepareRunDir(dir, sim, few, {
    orchestrator: { drain_max_delay_s: 3 },
    telemetry: { otlp_endpoint: `${receiver.url}/collector/` },
  });
  const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const deadEndpoint = `http://127.0.0.1:${closed.port}`;
  await closed.stop(true);
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    OTEL_EXPORTER_OTLP_ENDPOINT: deadEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  };
  expect(
    (await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], { cwd: dir, env })).code,
  ).toBe(0);
  const before = receiver.received.length;
  const r = await runBinary(["queue", "run", "--drain", "--config", run.configFile], { cwd: dir, env });
  expect(r.code).toBe(0);
  expect(r.stderr).not.toContain("OTLP export of");
  const got = receiver.received.slice(before);
  expect([...new Set(got.map((x) => `${x.path} ${x.encoding}`))].sort()).toEqual([
    "/collector/v1/metrics json",
    "/collector/v1/traces json",
  ]);
  const roots = got.flatMap(spansIn).filter((s) => s.name === "job");
  expect(roots.map((s) => s.attributes.reason).sort()).toEqual(["not_found", "ok"]);
}, 60_000);

test("a collector that cannot be reached costs no job: one warning per signal, the run drains as usual", async () => {
  const dir = emptyDir("docstokg-otlp-dead-");
  dirs.push(dir);
  const few = works.filter((w) => ["direct_pdf", "arxiv_id", "unknown_doi"].includes(w.scenario));
  const run = prepareRunDir(dir, sim, few, { orchestrator: { drain_max_delay_s: 3 } });
  const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const deadEndpoint = `http://127.0.0.1:${closed.port}`;
  await closed.stop(true);
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    OTEL_EXPORTER_OTLP_ENDPOINT: deadEndpoint,
  };
  expect(
    (await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], { cwd: dir, env })).code,
  ).toBe(0);
  const r = await runBinary(["queue", "run", "--drain", "--config", run.configFile], { cwd: dir, env });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/drained: 2 done or skipped, 1 failed/);
  const warnings = r.stderr.split("\n").filter((l) => l.includes("OTLP export of"));
  expect(warnings.map((l) => (JSON.parse(l) as { msg: string }).msg.split(":")[0]).sort()).toEqual([
    `OTLP export of metrics to http`,
    `OTLP export of traces to http`,
  ]);
}, 60_000);
