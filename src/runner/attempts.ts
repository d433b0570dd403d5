// What one job's step records while it works, built here and nowhere else: its attempt rows (every
// metadata or landing request that went out, every candidate try, a full disk included), the body
// bytes received, whether an origin answered 429 itself, and the process's request metrics.
import { hostKey } from "../core/url.ts";
import type { DownloadResult } from "../download/types.ts";
import type { HttpClient, HttpRequest, HttpResult } from "../net/types.ts";
import type { Candidate } from "../resolve/types.ts";
import type { AttemptRecord } from "../store/types.ts";
import type { ProductMetrics } from "../telemetry/product-metrics.ts";

/** Reasons a request gets when this process's limiter would not wait long enough for the host. */
export const POLITENESS_WAITS: ReadonlySet<string> = new Set(["rate_limited", "breaker_open"]);

/** Nothing was sent: this process's limiter refused to wait, or the job was cancelled first. */
function refused(r: { ok: boolean; status?: number; reason?: string }): boolean {
  return (
    !r.ok && r.status === undefined && (POLITENESS_WAITS.has(r.reason ?? "") || r.reason === "cancelled")
  );
}

function safeHost(url: string): string | null {
  try {
    return hostKey(url);
  } catch {
    return null;
  }
}

/**
 * The attempt row of one candidate try (tiers 1-based, as the configuration lists them). A try that
 * ended by this machine's error before anything was measured (a full disk) records no measures.
 */
export function attemptRecord(c: Candidate, r: DownloadResult, at: number): AttemptRecord {
  const row: AttemptRecord = { resolver: c.resolver, tier: c.tier + 1, url: c.url, host: safeHost(c.url) };
  if (r.ok || r.timings) {
    const timings = r.timings ?? { totalMs: 0, rateWaitMs: 0 };
    row.httpStatus = r.ok ? (r.reused ? null : r.status) : (r.status ?? null);
    row.reason = r.reason;
    row.bytes = receivedBytes(r);
    row.elapsedMs = Math.round(timings.totalMs);
    row.rateWaitMs = Math.round(timings.rateWaitMs);
  } else row.reason = r.reason;
  row.at = at;
  return row;
}

/** Body bytes that came over the network: none for a reused file or a 304, only the rest of a resumed one. */
export function receivedBytes(r: DownloadResult): number {
  if (!r.ok) return r.bytes;
  if (r.reused || r.reason === "not_modified") return 0;
  return r.file.bytes - r.resumedFrom;
}

/**
 * The attempt row of a metadata or landing request that went out: a fresh cache hit and a refusal
 * by this process's limiter sent nothing and give none. The URL is left out: API URLs carry contact
 * addresses and keys; the host says where it went.
 */
export function requestAttempt(req: HttpRequest, r: HttpResult, at: number): AttemptRecord | null {
  if (r.ok && r.response.fromCache) return null;
  if (refused(r)) return null;
  return {
    role: req.role,
    resolver: req.resolver ?? null,
    host: safeHost(req.url),
    httpStatus: r.ok ? r.response.status : (r.status ?? null),
    reason: r.ok ? null : r.reason,
    rateWaitMs: r.ok ? Math.round(r.response.rateWaitMs) : null,
    heldBackMs: r.ok ? Math.round(r.response.heldBackMs ?? 0) : null,
    at,
  };
}

/** One job's record: attempt rows in the order things finished, bytes, and an origin's own 429. */
export class JobAttempts {
  readonly rows: AttemptRecord[] = [];
  bytes = 0;
  /** An origin answered 429 itself (a real try): the job is not a mere politeness deferral. */
  served429 = false;

  constructor(
    private readonly now: () => number,
    private readonly metrics?: ProductMetrics,
  ) {}

  /** The client as the job's step uses it: every metadata and landing request recorded, all counted. */
  client(http: HttpClient): HttpClient {
    return {
      request: async (req: HttpRequest): Promise<HttpResult> => {
        const r = await http.request(req);
        this.request(req, r);
        return r;
      },
    };
  }

  private request(req: HttpRequest, r: HttpResult): void {
    // Candidate downloads (role artifact) are recorded by `tried`, with their candidate.
    if (req.role !== "artifact") {
      const a = requestAttempt(req, r, this.now());
      if (a) this.rows.push(a);
    }
    if (r.ok) this.metrics?.recordRequest(req.role, r.response.status, r.response.rateWaitMs);
    else if (r.status !== undefined) {
      if (r.status === 429) this.served429 = true;
      this.metrics?.recordRequest(req.role, r.status, 0);
    } else if (!refused(r)) this.metrics?.recordRequest(req.role, undefined, 0);
  }

  /** A finished candidate try (a limiter's refusal is not a try: nothing was sent). */
  tried(candidate: Candidate, r: DownloadResult): void {
    this.bytes += receivedBytes(r);
    if (r.ok && !r.reused && r.timings)
      this.metrics?.downloadSeconds.observe(undefined, (r.timings.headersMs + r.timings.bodyMs) / 1000);
    if (!refused(r)) this.rows.push(attemptRecord(candidate, r, this.now()));
  }
}
