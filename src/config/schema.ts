// The one configuration schema: keys, types, defaults and documentation all live here (its field
// helpers in fields.ts, the resolvers section in resolvers-schema.ts). Everything else (loading,
// precedence, `config schema`, the README reference) is derived from it.
import * as v from "valibot";
import { parseCidr } from "../core/ip.ts";
import { RATE_PATTERN } from "../core/rate.ts";
import { age, bool, int, MAX_TIMER_S, rate, seconds, secret } from "./fields.ts";
import { PREFER_VERSIONS, RESOLVER_NAMES, ResolversSchema } from "./resolvers-schema.ts";

export type { PreferVersion, ResolverName } from "./resolvers-schema.ts";
/**
 * A rate such as "10/s", "1/3s", "100/min", "0.5/s", "2/1.5s" or "1 per 3 s": requests per period.
 * Groups: count, optional period length, unit. Parsed into an interval by src/core/rate.ts.
 */
export { MAX_TIMER_S, PREFER_VERSIONS, RATE_PATTERN, RESOLVER_NAMES };

const roleRates = v.strictObject({
  metadata: rate(undefined, "Rate for API/metadata requests to this host."),
  landing: rate(undefined, "Rate for landing-page requests to this host."),
  artifact: rate(undefined, "Rate for file downloads from this host."),
});

export const ConfigSchema = v.strictObject({
  state_dir: v.optional(
    v.pipe(v.string(), v.minLength(1), v.description("Directory of the queue database and manifest.")),
    "./state",
  ),
  out_dir: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        "The content-addressed library: a directory, or `s3://bucket/prefix` for S3-compatible object storage (section `s3`).",
      ),
    ),
    "./library",
  ),
  database_url: v.optional(
    v.pipe(
      v.string(),
      // Case spelled out: JSON Schema (`config schema`) has no regex flags.
      v.regex(
        /^(?:$|[Pp][Oo][Ss][Tt][Gg][Rr][Ee][Ss](?:[Qq][Ll])?:\/\/)/,
        "empty, or a postgres:// or postgresql:// URL",
      ),
      v.description(
        "Where shared state lives: empty for the SQLite file in state_dir; a postgres:// URL for one PostgreSQL database shared by every runner of a fleet. Its password is never printed.",
      ),
    ),
    "",
  ),
  database_pool_size: int(10, "Connections one process keeps at most to the database_url server."),
  contact_email: v.optional(
    v.pipe(
      v.string(),
      v.email("an email address"),
      v.description("Contact address sent to APIs and in the User-Agent; required by Unpaywall."),
    ),
  ),
  queue: v.optional(
    v.strictObject({
      lease_ttl_s: seconds(120, "How long a lease lasts without a heartbeat.", 1),
      heartbeat_s: seconds(20, "How often a runner extends the leases it holds.", 0.1),
      max_attempts: int(5, "Attempts before a job ends in `error`."),
      backoff_base_s: seconds(30, "Base of the exponential full-jitter retry backoff."),
      backoff_cap_s: seconds(3600, "Upper bound of the retry backoff."),
    }),
    {},
  ),
  orchestrator: v.optional(
    v.strictObject({
      max_workers: int(16, "Jobs processed concurrently by one runner."),
      lease_batch: int(64, "Jobs leased per database round trip."),
      shutdown_grace_s: seconds(30, "Time in-flight jobs get to finish after SIGINT/SIGTERM."),
      poll_interval_s: seconds(1, "Pause between lease attempts when nothing is ready.", 0.01),
      min_free_bytes: int(
        256 * 1024 * 1024,
        "Free space kept on the library's filesystem: below it (or after a download hit ENOSPC) runners lease nothing until space returns.",
        0,
      ),
      disk_check_s: seconds(
        5,
        "How often a runner measures free space on the library's filesystem; a job released for a full disk waits this long.",
        0.01,
      ),
      drain_max_delay_s: seconds(
        120,
        "With --drain, how far ahead a delayed job (backoff, Retry-After, politeness release) is waited for; later ones stay queued.",
      ),
    }),
    {},
  ),
  politeness: v.optional(
    v.strictObject({
      max_wait_s: seconds(
        10,
        "A job whose next request would wait longer than this is released back to the queue.",
      ),
      max_per_host: int(4, "Concurrent requests per host."),
      max_per_resolver: int(8, "Concurrent requests per resolver."),
      rates: v.optional(
        v.strictObject({
          metadata: rate("10/s", "Default rate for API/metadata requests per host."),
          landing: rate("5/s", "Default rate for landing-page requests per host."),
          artifact: rate("2/s", "Default rate for file downloads per host."),
        }),
        {},
      ),
      burst: int(1, "Requests a host may receive back to back before its rate applies."),
      hosts: v.optional(
        v.pipe(
          v.record(
            v.string(),
            v.strictObject({
              rate: v.optional(rate(undefined, "Rate for every role on this host.")),
              roles: v.optional(roleRates),
              max_concurrent: v.optional(
                v.pipe(
                  v.number(),
                  v.integer(),
                  v.minValue(1),
                  v.description("Concurrent requests to this host."),
                ),
              ),
              burst: v.optional(
                v.pipe(
                  v.number(),
                  v.integer(),
                  v.minValue(1),
                  v.description("Requests this host may receive back to back before its rate applies."),
                ),
              ),
            }),
          ),
          v.description("Per-host overrides keyed by host (lowercase, with :port when non-default)."),
        ),
        {},
      ),
      retry_after_cap_s: seconds(900, "Longest Retry-After honoured for a host."),
      breaker_failures: int(5, "Consecutive failures (5xx, timeouts, resets) that open a host's breaker."),
      breaker_reset_s: seconds(60, "Time an open breaker waits before one trial request."),
      robots: bool(true, "Obey robots.txt for landing pages and artifacts."),
      robots_ttl_s: age(
        3600,
        "How long a robots.txt answer is cached (shared by the processes on one state database).",
      ),
      crawl_delay_cap_s: seconds(30, "Longest Crawl-delay honoured."),
    }),
    {},
  ),
  network: v.optional(
    v.strictObject({
      allow_private: v.optional(
        v.pipe(
          v.array(
            v.pipe(
              v.string(),
              v.check((text) => parseCidr(text) !== undefined, 'a CIDR like "127.0.0.0/8" or "fc00::/7"'),
            ),
          ),
          v.description("CIDRs of private/loopback addresses that may be contacted (empty: none)."),
        ),
        [],
      ),
      connect_timeout_s: seconds(15, "Time to connect and receive response headers.", 0.01),
      idle_timeout_s: seconds(30, "Longest silence between two body chunks.", 0.01),
      total_timeout_s: seconds(600, "Longest time for one request including its body.", 0.01),
      max_redirects: int(10, "Redirect hops followed (each one re-checked).", 0),
      metadata_retries: int(3, "Retries of a metadata request on 429/5xx/network errors.", 0),
      cache_ttl_s: age(86400, "Default freshness of cached metadata responses without Cache-Control."),
      cache_max_bytes: int(
        256 * 1024 * 1024,
        "Total size cap of the metadata cache in the state database, in bytes (0: cache nothing); entries expiring first are evicted.",
        0,
      ),
      user_agent: v.optional(v.pipe(v.string(), v.description("Override the User-Agent product token."))),
    }),
    {},
  ),
  download: v.optional(
    v.strictObject({
      max_bytes: int(
        1024 * 1024 * 1024,
        "Largest file accepted, in bytes (a compressed body counts decoded).",
      ),
      min_pdf_bytes: int(1024, "Smallest file accepted as a PDF, in bytes."),
      accept_xml: bool(false, "Keep JATS XML full text when no PDF is found."),
      max_candidates: int(24, "Candidates tried per job before `budget_exhausted`."),
      job_budget_s: seconds(600, "Longest time spent on one job.", 1),
      temp_max_age_s: age(86400, "Temp files older than this are swept at start."),
      retries: int(
        3,
        "Per candidate (file or landing page): how many 429/503 answers are asked again within the same attempt, each after the host's Retry-After (or its backoff).",
        0,
      ),
    }),
    {},
  ),
  resolvers: ResolversSchema,
  s3: v.optional(
    v.strictObject({
      endpoint: v.optional(
        v.pipe(
          v.string(),
          v.url("an http(s) URL"),
          v.description(
            "Endpoint of an S3-compatible store (MinIO, Ceph, R2, …); unset: AWS. Env AWS_ENDPOINT_URL_S3 or S3_ENDPOINT.",
          ),
        ),
      ),
      region: v.optional(
        v.pipe(
          v.string(),
          v.minLength(1),
          v.description("Region of the bucket. Env AWS_REGION or S3_REGION."),
        ),
      ),
      force_path_style: v.optional(
        v.pipe(
          v.boolean(),
          v.description(
            "Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`); default: true when `endpoint` is set.",
          ),
        ),
      ),
      part_size_mb: int(
        8,
        "Part size of multipart uploads, in MiB (files this large or larger go in parts; S3's least is 5).",
        5,
      ),
      concurrency: int(
        4,
        "Parts of multipart uploads in flight at once, all uploads together (memory ≈ 2 × part_size_mb each), and objects `report --verify` reads at once.",
      ),
    }),
    {},
  ),
  status: v.optional(
    v.strictObject({
      enabled: bool(true, "Serve the status endpoint while `queue run` works."),
      listen: v.optional(
        v.pipe(
          v.string(),
          v.regex(/^.+:\d{1,5}$/, "HOST:PORT"),
          v.description("Address of the status endpoint."),
        ),
        "127.0.0.1:8787",
      ),
      token: secret(
        "Bearer token for the control routes (pause, resume, retry-failed, requeue); on a non-loopback bind it also opens the read routes.",
      ),
      read_token: secret(
        "Bearer token that opens the read routes (jobs, hosts, runners) on a non-loopback bind, but no control.",
      ),
    }),
    {},
  ),
  telemetry: v.optional(
    v.strictObject({
      manifest: bool(true, "Append every terminal outcome to <state_dir>/manifest.jsonl."),
      progress_interval_s: seconds(10, "How often progress is logged in JSON log mode.", 0.1),
      objectives: v.optional(
        v.strictObject({
          max_corruption: int(0, "Stored files whose bytes no longer match their SHA-256.", 0),
          max_429_ratio: seconds(0.02, "Share of requests answered 429, per host."),
          max_metadata_rate_wait_p95_ms: seconds(
            250,
            "95th percentile of the wait of metadata requests beyond the configured pacing (cool-downs after 429/503, Retry-After).",
          ),
        }),
        {},
      ),
      otlp_endpoint: v.optional(
        v.pipe(
          v.string(),
          v.regex(/^(?:|https?:\/\/[^\s/?#]+[^\s?#]*)$/, "empty, or an http(s) base URL"),
          v.description(
            "OpenTelemetry collector base URL for OTLP/HTTP export by `queue run` (`/v1/metrics`, `/v1/traces` appended); empty: no export (env OTEL_EXPORTER_OTLP_ENDPOINT).",
          ),
        ),
        "",
      ),
      otlp_protocol: v.optional(
        v.pipe(
          v.picklist(["http/protobuf", "http/json"]),
          v.description("OTLP encoding (env OTEL_EXPORTER_OTLP_PROTOCOL)."),
        ),
        "http/protobuf",
      ),
      otlp_headers: v.optional(
        v.record(
          v.string(),
          v.pipe(
            v.string(),
            v.description(
              "Header sent with every export (e.g. authorization); values are secrets, never printed (env OTEL_EXPORTER_OTLP_HEADERS).",
            ),
          ),
        ),
        {},
      ),
      otlp_interval_s: seconds(
        60,
        "How often metrics are exported; also once at shutdown (env OTEL_METRIC_EXPORT_INTERVAL, in ms).",
        1,
      ),
      otlp_timeout_s: seconds(
        10,
        "Time limit of one export request (env OTEL_EXPORTER_OTLP_TIMEOUT, in ms).",
        0.1,
      ),
      otlp_service_name: v.optional(
        v.pipe(
          v.string(),
          v.minLength(1),
          v.description(
            'Resource attribute service.name (env OTEL_SERVICE_NAME); default: from the resource attributes, else "docstokg".',
          ),
        ),
      ),
      otlp_resource_attributes: v.optional(
        v.record(
          v.string(),
          v.pipe(
            v.string(),
            v.description(
              "Resource attribute of every export, e.g. deployment.environment (env OTEL_RESOURCE_ATTRIBUTES).",
            ),
          ),
        ),
        {},
      ),
    }),
    {},
  ),
});

export type ConfigInput = v.InferInput<typeof ConfigSchema>;
export type Config = v.InferOutput<typeof ConfigSchema>;

/** Key paths whose values are secrets: redacted in `config print`, never logged. */
/** Keys whose value is a URL that may carry credentials: printed through core/redact's redactUrl. */
export const CREDENTIAL_URL_KEYS: readonly string[] = ["database_url"];

export function isSecretKey(path: string): boolean {
  const parts = path.split(".");
  const leaf = parts.pop() ?? "";
  // Export headers carry the collector's credentials whatever their names (authorization, x-api-…).
  return /token|key|password|secret/i.test(leaf) || [...parts, leaf].includes("otlp_headers");
}

/** The configuration with every default applied (tests and library callers start here). */
export function defaultConfig(): Config {
  return v.parse(ConfigSchema, {});
}
