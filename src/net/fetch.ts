// The one HTTP client of docstokg (`HttpClient`, src/net/types.ts), put together here: every request
// is one hop with its redirects (hop.ts: gate → robots → permit → transport → redirect), metadata
// goes through the cache-and-retry wrapper (metadata-request.ts), landing pages and files through
// the slow-down wrapper (slow-down.ts). `politeness.max_wait_s` is read here, as every request's
// default wait.
import type { Config } from "../config/schema.ts";
import { hostKey } from "../core/url.ts";
import type { MetadataCache } from "./cache.ts";
import { createUrlGate, type Lookup } from "./gate.ts";
import { createExchange, type HopOptions } from "./hop.ts";
import { withMetadataCacheAndRetry } from "./metadata-request.ts";
import type { PolitenessGate } from "./politeness-port.ts";
import { createRobotsCache } from "./robots.ts";
import { fetchRobots } from "./robots-fetch.ts";
import type { RobotsStore } from "./robots-store.ts";
import { withSlowDownRetries } from "./slow-down.ts";
import { createSender, type Transport } from "./transport.ts";
import type { HttpClient, HttpRequest, HttpResult, SlowDownNotice } from "./types.ts";

export type { PolitenessGate } from "./politeness-port.ts";
export type { Transport } from "./transport.ts";

export interface HttpClientDeps {
  config: Pick<Config, "network" | "politeness" | "download" | "contact_email">;
  politeness: PolitenessGate;
  /** docstokg version for the User-Agent. */
  version: string;
  now?: () => number;
  lookup?: Lookup;
  transport?: Transport;
  /** Metadata cache; without it metadata is not cached. */
  cache?: MetadataCache;
  /** robots.txt verdicts shared with other processes; without it each client keeps its own. */
  robotsStore?: RobotsStore;
  /** Told before a 429/503 of a landing page or file is asked again (`fetch` says what it waits for). */
  onSlowDown?: (notice: SlowDownNotice) => void;
  random?: () => number;
}

/** `docstokg/<version> (+mailto:<contact>)`; no mailto without a contact address. */
export function userAgent(config: Pick<Config, "network" | "contact_email">, version: string): string {
  const product = config.network.user_agent ?? `docstokg/${version}`;
  return config.contact_email ? `${product} (+mailto:${config.contact_email})` : product;
}

export function createHttpClient(deps: HttpClientDeps): HttpClient {
  const { config, politeness } = deps;
  const net = config.network;
  const now = deps.now ?? Date.now;
  // The one reading of the politeness wait: a request may ask for another (OpenAlex pages wait as
  // long as a Retry-After may ask), every other caller takes this one.
  const defaultMaxWaitMs = config.politeness.max_wait_s * 1000;
  const robots = config.politeness.robots
    ? createRobotsCache({
        productToken: (net.user_agent ?? "docstokg").split("/")[0] as string,
        ttlMs: config.politeness.robots_ttl_s * 1000,
        crawlDelayCapMs: config.politeness.crawl_delay_cap_s * 1000,
        now,
        fetchRobots: (origin) => fetchRobots(exchange, origin, defaultMaxWaitMs, now),
        onCrawlDelay: (origin, ms) => politeness.setMinInterval(hostKey(origin), ms),
        store: deps.robotsStore,
      })
    : undefined;
  const exchange = createExchange({
    gate: createUrlGate({ allowPrivate: net.allow_private, lookup: deps.lookup, now }),
    robots,
    politeness,
    send: createSender({
      transport: deps.transport ?? ((url, init) => fetch(url, init)),
      userAgent: userAgent(config, deps.version),
      connectTimeoutMs: net.connect_timeout_s * 1000,
      totalTimeoutMs: net.total_timeout_s * 1000,
      idleTimeoutMs: net.idle_timeout_s * 1000,
      maxBytes: config.download.max_bytes,
      now,
    }),
    retryAfterCapMs: config.politeness.retry_after_cap_s * 1000,
    now,
  });
  const metadata = withMetadataCacheAndRetry(exchange, {
    cache: deps.cache,
    retries: net.metadata_retries,
    totalTimeoutMs: net.total_timeout_s * 1000,
    now,
    random: deps.random ?? Math.random,
  });
  const slowDown = withSlowDownRetries(exchange, {
    retries: config.download.retries,
    now,
    onSlowDown: deps.onSlowDown,
  });

  function request(req: HttpRequest): Promise<HttpResult> {
    const startedAt = now();
    const hop: HopOptions = {
      role: req.role,
      rateRole: req.role,
      checkRobots: req.role !== "metadata",
      maxRedirects: net.max_redirects,
      maxWaitMs: req.maxWaitMs ?? defaultMaxWaitMs,
    };
    if (req.role !== "metadata") return slowDown(req, hop);
    return metadata(req, hop, startedAt);
  }

  return { request };
}
