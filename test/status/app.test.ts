import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config/schema.ts";
import { createStatusApp, type StatusDeps } from "../../src/status/app.ts";
import { queueControls, queueReadModel } from "../../src/status/queue-read-model.ts";
import { registerRunner } from "../../src/store/runners.ts";
import { createProductMetrics } from "../../src/telemetry/product-metrics.ts";
import { ThroughputSampler } from "../../src/telemetry/throughput.ts";
import { promtoolCheck, warnPromtoolMissing } from "../support/promtool.ts";
import { NOW, statusFixture } from "../support/status-fixture.ts";

const TOKEN = "s3cret-token-value";

async function setup(
  opts: {
    token?: string;
    readToken?: string;
    readProtected?: boolean;
    controls?: boolean;
    shuttingDown?: () => boolean;
  } = {},
) {
  const fx = await statusFixture();
  if (opts.token) fx.config.status.token = opts.token;
  if (opts.readToken) fx.config.status.read_token = opts.readToken;
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
    readProtected: opts.readProtected,
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

describe("status page", () => {
  test("is self-contained HTML under a strict CSP, with nothing fetched from elsewhere", async () => {
    const { app } = await setup();
    const res = await app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const d of ["default-src 'none'", "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"])
      expect(csp).toContain(d);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await res.text();
    // The one absolute URL is the SVG namespace the script creates its chart in.
    expect(html.replaceAll("http://www.w3.org/2000/svg", "")).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script\s+src|<link\s+rel="stylesheet"|@import|url\(/i);
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
  });

  test("offers controls only where a token is configured and controls exist", async () => {
    expect(await (await (await setup({ token: TOKEN })).app.request("/")).text()).toContain(
      'data-controls="1"',
    );
    expect(await (await (await setup()).app.request("/")).text()).toContain('data-controls="0"');
    const serve = await setup({ token: TOKEN, controls: false });
    expect(await (await serve.app.request("/")).text()).toContain('data-controls="0"');
  });
});

describe("jobs, search, failures, yield, runners", () => {
  test("/api/jobs filters by state and reason and pages with after=", async () => {
    const { app } = await setup();
    const first = await json(await app.request("/api/jobs?state=error&reason=http_500&limit=1"));
    const jobs = first.jobs as { lastReason: string; id: number }[];
    expect(jobs.map((j) => j.lastReason)).toEqual(["http_500"]);
    const second = await json(
      await app.request(`/api/jobs?state=error&reason=http_500&limit=1&after=${first.nextCursor}`),
    );
    const more = second.jobs as { lastReason: string; id: number }[];
    expect(more.map((j) => j.lastReason)).toEqual(["http_500"]);
    expect(more[0]?.id).toBeLessThan(jobs[0]?.id ?? 0);
    expect(second.nextCursor).toBeNull();
  });

  test("/api/search finds a job by artifact id, DOI in any spelling, or job id", async () => {
    const { app } = await setup();
    const ids = async (q: string) =>
      (
        (await json(await app.request(`/api/search?q=${encodeURIComponent(q)}`))).jobs as { id: number }[]
      ).map((j) => j.id);
    expect(await ids("doi:10.1000/3")).toEqual([3]);
    expect(await ids("10.1000/3")).toEqual([3]);
    expect(await ids("https://doi.org/10.1000/3")).toEqual([3]);
    expect(await ids("DOI:10.1000/3")).toEqual([3]);
    expect(await ids("7")).toEqual([7]);
    expect(await ids("10.9999/none")).toEqual([]);
    expect((await app.request("/api/search?q=")).status).toBe(400);
  });

  test("/api/summary groups failures by reason with example jobs, and has the report's yield", async () => {
    const { app } = await setup();
    const body = await json(await app.request("/api/summary"));
    const failures = body.failures as {
      state: string;
      reason: string;
      count: number;
      examples: { id: number }[];
    }[];
    expect(failures.map((f) => [f.state, f.reason, f.count, f.examples.length])).toEqual([
      ["error", "http_500", 2, 2],
      ["error", "not_found", 2, 2],
      ["skipped", "robots_disallowed", 1, 1],
    ]);
    const job = await json(await app.request(`/api/jobs/${failures[0]?.examples[0]?.id}`));
    expect(job.job).toMatchObject({ state: "error", lastReason: "http_500" });
    expect(body.yield).toMatchObject({ finished: 15, obtained: 10 });
    expect(
      (body.yield as { by_resolver: { resolver: string; attempts: number }[] }).by_resolver,
    ).toContainEqual(expect.objectContaining({ resolver: "unpaywall", attempts: 10 }));
    expect(typeof body.computed_at).toBe("number");
  });

  test("/api/runners marks a runner silent for longer than the lease TTL as gone", async () => {
    const { app, db } = await setup();
    const ttl = defaultConfig().queue.lease_ttl_s * 1000;
    const row = {
      host: "m1",
      boot_id: "b",
      pid: 1,
      proc_start: null,
      version: "0.1.0",
      started_at: NOW - 1e6,
      in_flight: 3,
    };
    registerRunner(db, { ...row, id: "alive", heartbeat_at: NOW - 1000 });
    registerRunner(db, { ...row, id: "dead", heartbeat_at: NOW - ttl - 1000 });
    const body = await json(await app.request("/api/runners"));
    const runners = body.runners as {
      id: string;
      gone: boolean;
      in_flight: number;
      heartbeat_age_ms: number;
    }[];
    expect(runners.map((r) => [r.id, r.gone, r.in_flight])).toEqual([
      ["alive", false, 3],
      ["dead", true, 3],
    ]);
    expect(runners[0]?.heartbeat_age_ms).toBe(1000);
  });

  test("/api/hosts?limit= answers the busiest hosts first with the total, breaker reason included", async () => {
    const { app, politeness } = await setup();
    politeness.store.updateHost("slow.example", NOW, (r) => ({ ...r, breaker_reason: "timeout" }));
    const body = await json(await app.request("/api/hosts?limit=1"));
    expect(body.total).toBe(2);
    const hosts = body.hosts as { host: string; breaker: { state: string; reason: string | null } }[];
    expect(hosts).toHaveLength(1);
    expect(hosts[0]?.host).toBe("slow.example");
    expect(hosts[0]?.breaker).toMatchObject({ state: "open" });
    expect((await app.request("/api/hosts?limit=0")).status).toBe(400);
  });
});

describe("read routes on a non-loopback bind", () => {
  test("need status.token or status.read_token; health, readiness and the page stay open", async () => {
    const fx = await setup({ token: TOKEN, readProtected: true, readToken: "reader-token" });
    expect((await fx.app.request("/api/stats")).status).toBe(401);
    expect((await fx.app.request("/api/jobs?state=error")).status).toBe(401);
    expect((await fx.app.request("/api/stats", { headers: { Authorization: "Bearer nope" } })).status).toBe(
      401,
    );
    for (const t of [TOKEN, "reader-token"]) {
      const res = await fx.app.request("/api/jobs?state=error", {
        headers: { Authorization: `Bearer ${t}` },
      });
      expect(res.status).toBe(200);
    }
    // The read token reads but controls nothing.
    const pause = await fx.app.request("/api/pause", {
      method: "POST",
      headers: { Authorization: "Bearer reader-token" },
    });
    expect(pause.status).toBe(401);
    for (const path of ["/healthz", "/readyz", "/"]) expect((await fx.app.request(path)).status).toBe(200);
  });
});

describe("requeue and retry-all controls", () => {
  const post = (app: Awaited<ReturnType<typeof setup>>["app"], path: string, auth?: string, body?: string) =>
    app.request(path, { method: "POST", headers: auth ? { Authorization: auth } : {}, body });

  test("requeue puts one job back to queued; unknown is 404, a held job 409, no token 401", async () => {
    const { app, queue } = await setup({ token: TOKEN });
    const auth = `Bearer ${TOKEN}`;
    expect((await post(app, "/api/jobs/12/requeue")).status).toBe(401);
    const errorJob = (await queue.list({ state: "error", limit: 1 })).jobs[0];
    const res = await post(app, `/api/jobs/${errorJob?.id}/requeue`, auth);
    expect(await json(res)).toEqual({ ok: true, requeued: [errorJob?.id] });
    expect((await queue.show(errorJob?.id ?? 0))?.job.state).toBe("queued");
    expect((await post(app, "/api/jobs/424242/requeue", auth)).status).toBe(404);
    const held = (await queue.list({ state: "in_progress", limit: 1 })).jobs[0];
    const busy = await post(app, `/api/jobs/${held?.id}/requeue`, auth);
    expect(busy.status).toBe(409);
    expect(await json(busy)).toMatchObject({ error: "in_progress" });
  });

  test('retry-failed accepts {"all": true}, and the stats served next show it at once', async () => {
    const { app } = await setup({ token: TOKEN });
    expect(((await json(await app.request("/api/stats"))).counts as Record<string, number>).error).toBe(4);
    const res = await post(app, "/api/retry-failed", `Bearer ${TOKEN}`, JSON.stringify({ all: true }));
    expect(await json(res)).toEqual({ ok: true, requeued: 4 });
    expect(((await json(await app.request("/api/stats"))).counts as Record<string, number>).error).toBe(0);
  });
});
