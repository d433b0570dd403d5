// The status endpoint (SPEC 10, 18) as a Hono app built from its dependencies: health and readiness,
// JSON views of the queue, jobs, failures, yield, runners and hosts, Prometheus metrics, the status
// page, and token-guarded controls. `queue run` passes controls; `serve` passes them only with a
// token. Counts over the whole queue are served from memory and recomputed in the background.
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
import { renderStatusPage, statusPageCsp } from "./dashboard.ts";
import { BadCursorError, type StatusControls, type StatusReadModel } from "./read-model.ts";
import { Refreshing } from "./refreshing.ts";

export interface StatusDeps {
  store: StatusReadModel;
  hosts: () => HostSnapshot[] | Promise<HostSnapshot[]>;
  /** Today's usage and quota per source (`/api/usage`). */
  usage?: () => SourceUsage[] | Promise<SourceUsage[]>;
  metrics: Registry;
  config: {
    status: Pick<Config["status"], "token" | "read_token">;
    queue: Pick<Config["queue"], "lease_ttl_s">;
    /** Where the library is (the page shows it). */
    out_dir: Config["out_dir"];
  };
  shuttingDown: () => boolean;
  /** Absent in read-only mode (`serve`). */
  controls?: StatusControls;
  /** Feeds the dashboard's throughput chart and `/api/stats` recent rates. */
  throughput?: ThroughputSampler;
  now?: () => number;
  /** Dashboard refresh period in seconds (default 5). */
  refreshSeconds?: number;
  /**
   * The read routes (/api/*) need `status.token` or `status.read_token` as a bearer token: set on a
   * non-loopback bind, where a job list is not for everyone who can reach the port.
   */
  readProtected?: boolean;
  /** Shown in the page's header (default "runner" with controls, else "read-only"). */
  label?: string;
  /** How long counts over the whole queue are served from memory (default 2 s; yield at least 15 s). */
  statsMaxAgeMs?: number;
}

const Reason = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9_]{1,64}$/, "reason must be an outcome reason like http_500"),
);
const Cursor = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_.:=-]{1,256}$/, "cursor must be a value returned as nextCursor"),
);

const JobsQuery = v.strictObject({
  state: v.optional(v.picklist(JOB_STATES, `state must be one of ${JOB_STATES.join(", ")}`)),
  reason: v.optional(Reason),
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
  cursor: v.optional(Cursor),
  /** The same as cursor: list the jobs after (older than) this one. */
  after: v.optional(Cursor),
});

const SearchQuery = v.strictObject({
  q: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, "q must name an artifact id, a DOI or a job id"),
    v.maxLength(2048),
  ),
});

const HostsQuery = v.strictObject({
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,6}$/, "limit must be a whole number"),
      v.transform(Number),
      v.minValue(1, "limit must be at least 1"),
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

/** Busiest hosts first: in flight, then troubled breakers, then hosts cooling down, then 429s. */
export function sortHosts(hosts: HostSnapshot[], now: number): HostSnapshot[] {
  const rank = { open: 2, half_open: 1, closed: 0 } as const;
  return [...hosts].sort(
    (a, b) =>
      b.inFlightAll - a.inFlightAll ||
      rank[b.breaker.state] - rank[a.breaker.state] ||
      Number(b.cooldownUntil > now) - Number(a.cooldownUntil > now) ||
      b.count429 - a.count429 ||
      a.host.localeCompare(b.host),
  );
}

export function createStatusApp(deps: StatusDeps): Hono {
  const now = deps.now ?? Date.now;
  const app = new Hono();
  const maxAgeMs = deps.statsMaxAgeMs ?? 2000;
  const stats = new Refreshing(() => deps.store.stats(), { maxAgeMs });
  const hosts = new Refreshing(() => deps.hosts(), { maxAgeMs: Math.min(maxAgeMs, 1000) });
  // Yield reads every attempt and outcome: at millions of jobs it takes seconds, so it is computed
  // rarely (at least 15 s apart, and 10× its own duration) and served from memory in between.
  const summary = new Refreshing(
    async () => {
      const counts = (await stats.get()).value.counts;
      const [failures, yieldFigures] = await Promise.all([
        deps.store.failures?.() ?? [],
        deps.store.yieldFigures?.(counts) ?? null,
      ]);
      return { failures, yield: yieldFigures };
    },
    { maxAgeMs: Math.max(maxAgeMs, 15_000) },
  );
  /** After a control: the next read counts again, so the page shows the change at once. */
  const invalidate = () => {
    stats.invalidate();
    summary.invalidate();
  };

  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Cache-Control", "no-store");
  });

  // On a non-loopback bind the read routes need a token: either one opens them.
  app.use("/api/*", async (c, next) => {
    if (deps.readProtected && c.req.method === "GET") {
      const header = c.req.header("Authorization");
      const { token, read_token } = deps.config.status;
      if (checkBearer(header, token) !== "ok" && checkBearer(header, read_token) !== "ok") {
        throw new HttpError(
          401,
          "unauthorized",
          "this status endpoint is not on loopback: reading needs Authorization: Bearer <status.token or status.read_token>",
        );
      }
    }
    await next();
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
    const fresh = await stats.get();
    const recent = deps.throughput?.rate(60_000) ?? null;
    return c.json({
      ...fresh.value,
      recent: recent && { jobs_per_s: recent.jobsPerSec, bytes_per_s: recent.bytesPerSec, window_s: 60 },
      counted_at: fresh.computedAt,
      mode: deps.controls ? (deps.config.status.token ? "controls" : "no_token") : "read_only",
    });
  });

  app.get("/api/throughput", (c) => c.json({ series: rateSeries(deps.throughput?.samples() ?? []) }));

  app.get("/api/summary", async (c) => {
    const fresh = await summary.get();
    return c.json({ ...fresh.value, computed_at: fresh.computedAt, took_ms: Math.round(fresh.tookMs) });
  });

  app.get("/api/runners", async (c) => {
    const rows = (await deps.store.runners?.()) ?? [];
    const ttlMs = deps.config.queue.lease_ttl_s * 1000;
    const t = now();
    return c.json({
      lease_ttl_s: deps.config.queue.lease_ttl_s,
      runners: rows.map((r) => ({
        ...r,
        heartbeat_age_ms: Math.max(0, t - r.heartbeat_at),
        // Silent for longer than a lease lives: its leases are already free for others.
        gone: t - r.heartbeat_at > ttlMs,
      })),
    });
  });

  app.get("/api/hosts", async (c) => {
    const parsed = v.safeParse(HostsQuery, c.req.query());
    if (!parsed.success) throw new HttpError(400, "bad_request", describeIssues(parsed.issues));
    const all = (await hosts.get()).value;
    const limit = parsed.output.limit;
    if (limit === undefined) return c.json({ hosts: all });
    return c.json({ hosts: sortHosts(all, now()).slice(0, limit), total: all.length });
  });
  app.get("/api/usage", async (c) => c.json({ sources: (await deps.usage?.()) ?? [] }));

  app.get("/api/jobs", async (c) => {
    const parsed = v.safeParse(JobsQuery, c.req.query());
    if (!parsed.success) throw new HttpError(400, "bad_request", describeIssues(parsed.issues));
    const { state, reason, limit, cursor, after } = parsed.output;
    try {
      return c.json(await deps.store.list({ state, reason, limit, cursor: after ?? cursor }));
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

  app.get("/api/search", async (c) => {
    const parsed = v.safeParse(SearchQuery, c.req.query());
    if (!parsed.success) throw new HttpError(400, "bad_request", describeIssues(parsed.issues));
    return c.json({ q: parsed.output.q, jobs: (await deps.store.search?.(parsed.output.q)) ?? [] });
  });

  app.get("/metrics", async (c) =>
    c.body(await deps.metrics.render(), 200, { "Content-Type": PROMETHEUS_CONTENT_TYPE }),
  );

  app.get("/", (c) => {
    // The page holds no data: it reads the API (with the tab's token where the API needs one).
    c.header("Content-Security-Policy", statusPageCsp());
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    return c.html(
      renderStatusPage({
        mode: deps.label ?? (deps.controls ? "runner" : "read-only"),
        controls: deps.controls !== undefined && deps.config.status.token !== undefined,
        refreshSeconds: deps.refreshSeconds ?? 5,
        library: describeLibrary(deps.config.out_dir),
      }),
    );
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
    invalidate();
    return c.json({ ok: true, paused: true });
  });

  app.post("/api/resume", async (c) => {
    await authorize(c.req.header("Authorization")).resume();
    invalidate();
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
    invalidate();
    return c.json({ ok: true, requeued });
  });

  app.post("/api/jobs/:id/requeue", async (c) => {
    const controls = authorize(c.req.header("Authorization"));
    const parsed = v.safeParse(JobIdParam, c.req.param("id"));
    if (!parsed.success) throw new HttpError(400, "bad_request", describeIssues(parsed.issues));
    if (!controls.requeue) throw new HttpError(403, "read_only", "this status endpoint cannot requeue jobs");
    const result = await controls.requeue(parsed.output);
    invalidate();
    if (result.notFound.length > 0)
      throw new HttpError(404, "not_found", `no job with id or artifact id "${parsed.output}"`);
    if (result.inProgress.length > 0)
      throw new HttpError(
        409,
        "in_progress",
        `job "${parsed.output}" is held by a runner right now; try again when it ends`,
      );
    return c.json({ ok: true, requeued: result.requeued });
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
