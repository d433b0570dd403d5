// The status endpoint (SPEC 10) as a Hono app built from its dependencies: health and readiness,
// JSON views of the queue and hosts, Prometheus metrics, the dashboard, and token-guarded controls.
// `queue run` passes controls; `serve` does not, and its mutating routes answer 403.

import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import type { Config } from "../config/schema.ts";
import { describeLibrary } from "../library/location.ts";
import type { SourceUsage } from "../quota/gate.ts";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "../telemetry/metrics.ts";
import { type HostSnapshot, JOB_STATES } from "../telemetry/snapshots.ts";
import { rateSeries, type ThroughputSampler } from "../telemetry/throughput.ts";
import { checkBearer } from "./auth.ts";
import { renderDashboard } from "./dashboard.ts";
import { BadCursorError, type StatusControls, type StatusReadModel } from "./read-model.ts";

export interface StatusDeps {
  store: StatusReadModel;
  hosts: () => HostSnapshot[] | Promise<HostSnapshot[]>;
  /** Today's usage and quota per source (`/api/usage`). */
  usage?: () => SourceUsage[] | Promise<SourceUsage[]>;
  metrics: Registry;
  config: Config;
  shuttingDown: () => boolean;
  /** Absent in read-only mode (`serve`). */
  controls?: StatusControls;
  /** Feeds the dashboard's throughput chart and `/api/stats` recent rates. */
  throughput?: ThroughputSampler;
  now?: () => number;
  /** Dashboard refresh period in seconds (default 5). */
  refreshSeconds?: number;
}

const JobsQuery = v.strictObject({
  state: v.optional(v.picklist(JOB_STATES, `state must be one of ${JOB_STATES.join(", ")}`)),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,5}$/, "limit must be a whole number from 1 to 1000"),
      v.transform(Number),
      v.minValue(1, "limit must be a whole number from 1 to 1000"),
      v.maxValue(1000, "limit must be a whole number from 1 to 1000"),
    ),
    "50",
  ),
  cursor: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9_.:=-]{1,256}$/, "cursor must be a value returned as next_cursor"),
    ),
  ),
});

const JobIdParam = v.pipe(v.string(), v.minLength(1), v.maxLength(2048, "job id is too long"));

// Exactly one of two shapes: an empty body, `[]` or `{}` must never mean "everything".
const RetryFailedBody = v.union(
  [
    v.strictObject({
      reason: v.pipe(
        v.string(),
        v.regex(/^[a-z0-9_]{1,64}$/, "reason must be an outcome reason like http_500"),
      ),
    }),
    v.strictObject({ all: v.literal(true) }),
  ],
  'body must be {"reason": "<reason>"} or {"all": true}',
);

class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((i) => {
      const path = i.path?.map((p) => String(p.key)).join(".");
      // An unknown key's issue path names the key; say so plainly.
      if (i.kind === "schema" && i.type === "strict_object" && path) return `unknown parameter "${path}"`;
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join("; ");
}

/** Names a bad reason in an otherwise right shape; anything else gets the two accepted shapes. */
function retryBodyProblem(body: unknown): string {
  const b = body as Record<string, unknown> | null;
  if (b && typeof b === "object" && !Array.isArray(b) && Object.keys(b).join() === "reason") {
    return "reason must be an outcome reason like http_500";
  }
  return 'body must be {"reason": "<reason>"} or {"all": true}';
}

export function createStatusApp(deps: StatusDeps): Hono {
  const now = deps.now ?? Date.now;
  const app = new Hono();

  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Cache-Control", "no-store");
  });

  app.get("/healthz", (c) => c.json({ ok: true }));

  app.get("/readyz", async (c) => {
    if (deps.shuttingDown())
      return c.json({ error: "shutting_down", message: "the runner is shutting down" }, 503);
    let reachable = false;
    try {
      reachable = (await deps.store.ping()) !== false;
    } catch {
      reachable = false;
    }
    if (!reachable)
      return c.json({ error: "database_unreachable", message: "the queue database cannot be queried" }, 503);
    return c.json({ ok: true });
  });

  app.get("/api/stats", async (c) => {
    const stats = await deps.store.stats();
    const recent = deps.throughput?.rate(60_000) ?? null;
    return c.json({
      ...stats,
      recent: recent && { jobs_per_s: recent.jobsPerSec, bytes_per_s: recent.bytesPerSec, window_s: 60 },
    });
  });

  app.get("/api/hosts", async (c) => c.json({ hosts: await deps.hosts() }));
  app.get("/api/usage", async (c) => c.json({ sources: (await deps.usage?.()) ?? [] }));

  app.get("/api/jobs", async (c) => {
    const parsed = v.safeParse(JobsQuery, c.req.query());
    if (!parsed.success) throw new HttpError(400, "bad_request", describeIssues(parsed.issues));
    const { state, limit, cursor } = parsed.output;
    try {
      return c.json(await deps.store.list({ state, limit, cursor }));
    } catch (err) {
      const e = err as Error | undefined;
      if (e instanceof BadCursorError || e?.name === "BadCursorError") {
        throw new HttpError(400, "bad_request", `cursor: ${e.message}`);
      }
      throw err;
    }
  });

  app.get("/api/jobs/:id", async (c) => {
    const parsed = v.safeParse(JobIdParam, c.req.param("id"));
    if (!parsed.success) throw new HttpError(400, "bad_request", describeIssues(parsed.issues));
    const detail = await deps.store.show(parsed.output);
    if (!detail) throw new HttpError(404, "not_found", `no job with id or artifact id "${parsed.output}"`);
    return c.json(detail);
  });

  app.get("/metrics", async (c) =>
    c.body(await deps.metrics.render(), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }),
  );

  app.get("/", async (c) => {
    const [stats, hosts] = await Promise.all([deps.store.stats(), deps.hosts()]);
    const html = renderDashboard({
      stats,
      hosts,
      series: rateSeries(deps.throughput?.samples() ?? []),
      now: now(),
      refreshSeconds: deps.refreshSeconds ?? 5,
      mode: deps.controls ? "runner" : "read-only",
      library: describeLibrary(deps.config.out_dir),
    });
    // The page needs nothing but itself: forbid every fetch, allow inline styles only.
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    return c.html(html);
  });

  /** Auth for the mutating routes: 403 without a configured token or in read-only mode, 401 on a bad token. */
  const authorize = (header: string | undefined): StatusControls => {
    const result = checkBearer(header, deps.config.status.token);
    if (result === "no_token_configured") {
      throw new HttpError(403, "forbidden", "control routes are disabled: no status.token is configured");
    }
    if (result === "unauthorized") {
      throw new HttpError(
        401,
        "unauthorized",
        "missing or wrong bearer token (Authorization: Bearer <status.token>)",
      );
    }
    if (!deps.controls)
      throw new HttpError(403, "read_only", "this status endpoint is read-only (docstokg serve)");
    return deps.controls;
  };

  app.post("/api/pause", async (c) => {
    await authorize(c.req.header("Authorization")).pause();
    return c.json({ ok: true, paused: true });
  });

  app.post("/api/resume", async (c) => {
    await authorize(c.req.header("Authorization")).resume();
    return c.json({ ok: true, paused: false });
  });

  app.post("/api/retry-failed", async (c) => {
    const controls = authorize(c.req.header("Authorization"));
    const text = await c.req.text();
    const shape = 'body must be JSON, {"reason": "<reason>"} or {"all": true}';
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, "bad_request", text.trim() === "" ? `empty body: ${shape}` : shape);
    }
    const parsed = v.safeParse(RetryFailedBody, body);
    if (!parsed.success) throw new HttpError(400, "bad_request", retryBodyProblem(body));
    const reason = "reason" in parsed.output ? parsed.output.reason : undefined;
    const requeued = await controls.retryFailed({ reason });
    return c.json({ ok: true, requeued });
  });

  app.notFound((c) =>
    c.json({ error: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404),
  );

  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.code, message: err.message }, err.status);
    // Hono raises its own HTTPException for malformed requests; keep its status, hide internals otherwise.
    const status = (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      return c.json({ error: "bad_request", message: err.message }, status as ContentfulStatusCode);
    }
    return c.json({ error: "internal", message: "internal error while answering this request" }, 500);
  });

  return app;
}
