import { describe, expect, test } from "bun:test";
import { createStatusApp, type StatusDeps } from "../../src/status/app.ts";
import { queueControls, queueReadModel } from "../../src/status/queue-read-model.ts";
import { createProductMetrics } from "../../src/telemetry/product-metrics.ts";
import { ThroughputSampler } from "../../src/telemetry/throughput.ts";
import { promtoolCheck, warnPromtoolMissing } from "../support/promtool.ts";
import { NOW, statusFixture } from "../support/status-fixture.ts";

const TOKEN = "s3cret-token-value";

async function setup(opts: { token?: string; controls?: boolean; shuttingDown?: () => boolean } = {}) {
  const fx = await statusFixture();
  if (opts.token) fx.config.status.token = opts.token;
  const throughput = new ThroughputSampler();
  const hosts = () => fx.politeness.hostsSnapshot();
  const metrics = createProductMetrics({ stats: () => fx.queue.stats(), hosts });
  const deps: StatusDeps = {
    store: queueReadModel(fx.queue, fx.db),
    hosts,
    metrics: metrics.registry,
    config: fx.config,
    shuttingDown: opts.shuttingDown ?? (() => false),
    controls: opts.controls === false ? undefined : queueControls(fx.queue),
    throughput,
    now: () => NOW,
  };
  return { app: createStatusApp(deps), queue: fx.queue, db: fx.db, politeness: fx.politeness, throughput };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get("content-type")).toContain("application/json");
  return (await res.json()) as Record<string, unknown>;
}

describe("health and readiness", () => {
  test("/healthz answers while alive", async () => {
    const { app } = await setup();
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ ok: true });
  });

  test("/readyz is 200 when the database answers and 503 while shutting down", async () => {
    let stopping = false;
    const { app } = await setup({ shuttingDown: () => stopping });
    expect((await app.request("/readyz")).status).toBe(200);
    stopping = true;
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await json(res)).toMatchObject({ error: "shutting_down" });
  });

  test("/readyz is 503 when the database cannot be queried", async () => {
    const { app, db } = await setup();
    db.close();
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await json(res)).toMatchObject({ error: "database_unreachable" });
  });
});

describe("read routes", () => {
  test("/api/stats has counts by state, the paused flag and recent throughput", async () => {
    const { app, throughput } = await setup();
    throughput.record({ t: NOW - 30_000, done: 0, bytes: 0 });
    throughput.record({ t: NOW, done: 15, bytes: 3_000_000 });
    const body = await json(await app.request("/api/stats"));
    expect(body.counts).toEqual({ queued: 5, in_progress: 2, done: 10, skipped: 1, error: 4 });
    expect(body.paused).toBe(false);
    expect(body.recent).toEqual({ jobs_per_s: 0.5, bytes_per_s: 100_000, window_s: 60 });
  });

  test("/api/hosts lists the hosts snapshot", async () => {
    const { app } = await setup();
    const body = await json(await app.request("/api/hosts"));
    const hosts = body.hosts as { host: string; breaker: { state: string }; count429: number }[];
    expect(hosts.map((h) => h.host).sort()).toEqual(["arxiv.org", "slow.example"]);
    expect(hosts.find((h) => h.host === "slow.example")).toMatchObject({
      breaker: { state: "open" },
      count429: 4,
    });
  });

  test("/api/jobs filters by state and pages with the cursor until the end", async () => {
    const { app } = await setup();
    const first = await json(await app.request("/api/jobs?state=error&limit=3"));
    const jobs = first.jobs as { state: string; id: number }[];
    expect(jobs).toHaveLength(3);
    expect(jobs.every((j) => j.state === "error")).toBe(true);
    expect(typeof first.nextCursor).toBe("string");
    const second = await json(await app.request(`/api/jobs?state=error&limit=3&cursor=${first.nextCursor}`));
    expect((second.jobs as unknown[]).length).toBe(1);
    expect(second.nextCursor).toBeNull();
  });

  test("/api/jobs defaults to 50 per page", async () => {
    const { app } = await setup();
    const body = await json(await app.request("/api/jobs"));
    expect((body.jobs as unknown[]).length).toBe(22);
  });

  test.each([
    ["state=bogus", /state must be one of/],
    ["limit=0", /limit/],
    ["limit=1001", /limit/],
    ["limit=ten", /limit/],
    ["limit=-5", /limit/],
    ["cursor=%3Cscript%3E", /cursor/],
    ["color=red", /unknown parameter "color"/],
  ])("/api/jobs?%s is a 400 naming the parameter", async (qs, message) => {
    const { app } = await setup();
    const res = await app.request(`/api/jobs?${qs}`);
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toBe("bad_request");
    expect(String(body.message)).toMatch(message);
  });

  test("a well-formed cursor the store did not issue is a 400, not a 500", async () => {
    const { app } = await setup();
    const res = await app.request("/api/jobs?cursor=abc");
    expect(res.status).toBe(400);
    expect(String((await json(res)).message)).toMatch(/cursor/);
  });

  test("/api/jobs/:id finds a job by id or artifact id, with its attempts, URLs redacted", async () => {
    const { app } = await setup();
    const byId = await json(await app.request("/api/jobs/1"));
    expect(byId.job).toMatchObject({ id: 1, artifactId: "doi:10.1000/1", state: "done" });
    expect(byId.attempts).toEqual([
      expect.objectContaining({ resolver: "unpaywall", url: "https://pdfs.example/1.pdf?api_key=REDACTED" }),
    ]);
    expect(byId.outcomes).toEqual([expect.objectContaining({ state: "done", reason: "ok" })]);
    expect(JSON.stringify(byId)).not.toContain("SECRETKEY");
    const byArtifact = await json(await app.request(`/api/jobs/${encodeURIComponent("doi:10.1000/1")}`));
    expect(byArtifact.job).toMatchObject({ id: 1 });
  });

  test("/api/jobs/:id is a JSON 404 for an unknown job", async () => {
    const { app } = await setup();
    const res = await app.request("/api/jobs/doi:10.9999%2Fnope");
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ error: "not_found" });
  });

  test("unknown routes are JSON 404s", async () => {
    const { app } = await setup();
    for (const [method, path] of [
      ["GET", "/nope"],
      ["GET", "/api"],
      ["DELETE", "/api/jobs/1"],
    ] as const) {
      const res = await app.request(path, { method });
      expect(res.status).toBe(404);
      expect(await json(res)).toMatchObject({ error: "not_found" });
    }
  });

  test("/metrics is Prometheus text 0.0.4 with job counts filled at scrape", async () => {
    const { app } = await setup();
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toContain('docstokg_jobs{state="error"} 4\n');
    const result = promtoolCheck(text);
    if (result === null) return warnPromtoolMissing();
    expect(result.output.trim()).toBe("");
    expect(result.code).toBe(0);
  });

  test("an internal failure is a JSON 500 without details", async () => {
    const { app, db } = await setup();
    db.close();
    const res = await app.request("/api/stats");
    expect(res.status).toBe(500);
    const body = await json(res);
    expect(body.error).toBe("internal");
    expect(JSON.stringify(body)).not.toMatch(/closed|database/i);
  });
});

describe("control routes", () => {
  const post = (app: Awaited<ReturnType<typeof setup>>["app"], path: string, auth?: string, body?: string) =>
    app.request(path, {
      method: "POST",
      headers: auth ? { Authorization: auth } : {},
      body,
    });

  test("without a configured token every control route is 403 and nothing changes", async () => {
    const { app, queue } = await setup();
    for (const path of ["/api/pause", "/api/resume", "/api/retry-failed"]) {
      const res = await post(app, path, "Bearer anything");
      expect(res.status).toBe(403);
      expect(await json(res)).toMatchObject({ error: "forbidden" });
    }
    expect(await queue.isPaused()).toBe(false);
    expect((await queue.stats()).counts.error).toBe(4);
  });

  test("a missing or wrong token is 401 and nothing changes", async () => {
    const { app, queue } = await setup({ token: TOKEN });
    for (const auth of [undefined, "Bearer wrong", `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, "Bearer ", TOKEN]) {
      const res = await post(app, "/api/pause", auth);
      expect(res.status).toBe(401);
      expect(await json(res)).toMatchObject({ error: "unauthorized" });
    }
    expect(await queue.isPaused()).toBe(false);
  });

  test("the right token pauses, resumes and retries failed jobs", async () => {
    const { app, queue } = await setup({ token: TOKEN });
    const auth = `Bearer ${TOKEN}`;
    let res = await post(app, "/api/pause", auth);
    expect(res.status).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    expect((await json(await app.request("/api/stats"))).paused).toBe(true);
    res = await post(app, "/api/resume", auth);
    expect(res.status).toBe(200);
    expect(await queue.isPaused()).toBe(false);
    res = await post(app, "/api/retry-failed", auth, JSON.stringify({ reason: "http_500" }));
    expect(await json(res)).toEqual({ ok: true, requeued: 2 });
    res = await post(app, "/api/retry-failed", auth, JSON.stringify({ all: true }));
    expect(await json(res)).toEqual({ ok: true, requeued: 2 });
    expect((await queue.stats()).counts.error).toBe(0);
  });

  test("retry-failed takes only {reason} or {all: true}: anything else is a 400 and requeues nothing", async () => {
    const { app, queue } = await setup({ token: TOKEN });
    const auth = `Bearer ${TOKEN}`;
    for (const body of [
      undefined,
      "",
      "  ",
      "[]",
      "{}",
      "null",
      "true",
      '"http_500"',
      "{not json",
      JSON.stringify([{ reason: "http_500" }]),
      JSON.stringify({ all: false }),
      JSON.stringify({ all: "true" }),
      JSON.stringify({ all: true, reason: "http_500" }),
      JSON.stringify({ reason: null }),
      JSON.stringify({ reason: "DROP TABLE" }),
      JSON.stringify({ dry: true }),
    ]) {
      const res = await post(app, "/api/retry-failed", auth, body);
      expect(res.status, `body ${JSON.stringify(body)}`).toBe(400);
      const answer = await json(res);
      expect(answer.error).toBe("bad_request");
      expect(String(answer.message)).toMatch(/reason/);
    }
    expect((await queue.stats()).counts.error).toBe(4);
    const bad = await post(app, "/api/retry-failed", auth, JSON.stringify({ reason: "Not A Reason" }));
    expect((await json(bad)).message).toBe("reason must be an outcome reason like http_500");
    const empty = await post(app, "/api/retry-failed", auth);
    expect(String((await json(empty)).message)).toMatch(/^empty body/);
  });

  test("read-only mode (serve) refuses controls even with the right token", async () => {
    const { app, queue } = await setup({ token: TOKEN, controls: false });
    const res = await post(app, "/api/pause", `Bearer ${TOKEN}`);
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ error: "read_only" });
    expect(await queue.isPaused()).toBe(false);
  });

  test("GET on a control route is a 404, not an action", async () => {
    const { app, queue } = await setup({ token: TOKEN });
    expect((await app.request("/api/pause")).status).toBe(404);
    expect(await queue.isPaused()).toBe(false);
  });
});

describe("dashboard", () => {
  test("is self-contained HTML: no external references, a CSP that forbids fetching, auto-refresh", async () => {
    const { app, throughput } = await setup();
    for (let i = 0; i <= 10; i++)
      throughput.record({ t: NOW - (10 - i) * 5000, done: i * 7, bytes: i * 1e6 });
    const res = await app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    expect(html).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(html).toContain("<svg");
    expect(html).toContain("<polyline");
    expect(html).toContain("slow.example");
    expect(html).toContain("arxiv.org");
  });

  test("host names are escaped", async () => {
    const { app, politeness } = await setup();
    politeness.store.updateHost("<img onerror=x>.example", NOW, (row) => ({ ...row, failures: 1 }));
    const html = await (await app.request("/")).text();
    expect(html).not.toContain("<img onerror");
    expect(html).toContain("&#60;img onerror=x&#62;.example");
  });
});
