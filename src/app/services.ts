// The composition root: the parts every working command shares, built once on a state directory —
// the shared state (SQLite in state_dir, or PostgreSQL: state-stores.ts), politeness, the HTTP client
// (metadata cache, shared robots.txt verdicts), resolver settings, the library and its URL index,
// quotas and the download threads — and the job step over them. `queue run`, `fetch`, `resolve` and
// `openalex pull` all start here.
import type { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import type { Config } from "../config/schema.ts";
import { sweepTempFiles } from "../download/temp.ts";
import { type DownloadThreads, startDownloadThreads } from "../download/threads.ts";
import { type Library, localLibrary } from "../library/library.ts";
import { createMetadataCache } from "../net/cache.ts";
import { createHttpClient, type Transport } from "../net/fetch.ts";
import type { Lookup } from "../net/gate.ts";
import type { HttpClient, SlowDownNotice } from "../net/types.ts";
import { createPoliteness, type Politeness } from "../politeness/politeness.ts";
import { Quotas } from "../quota/gate.ts";
import { resolverWarnings } from "../resolve/plan.ts";
import { type ResolverSettings, resolverSettings } from "../resolve/resolver.ts";
import { type PipelineDeps, resolveAndDownload } from "../runner/pipeline.ts";
import type { JobStep } from "../runner/step.ts";
import type { RunnerRegistry } from "../store/runners.ts";
import type { RecordStoredUrl } from "../store/stored-urls.ts";
import type { JobQueue } from "../store/types.ts";
import type { UsageStore } from "../store/usage.ts";
import { VERSION } from "../version.ts";
import { openStateStores, type StateStores } from "./state-stores.ts";

export interface ServicesOptions {
  now?: () => number;
  /** Owner of this process's host slots (the runner id, so a successor can free them after a crash). */
  owner?: string;
  lookup?: Lookup;
  transport?: Transport;
  /** Told before a 429/503 of a landing page or file is asked again. */
  onSlowDown?: (notice: SlowDownNotice) => void;
  /**
   * Remove the temp files an interrupted run left in the library (younger partial downloads stay
   * to resume). Default true; `openalex pull` downloads nothing and leaves the library alone.
   */
  sweepTemp?: boolean;
  /** Told of each part that failed to close (default: close() throws the first). */
  onCloseError?: (error: unknown) => void;
  /**
   * Where files are stored, opened (and an object store probed) by the caller with
   * openWritableLibrary; default: the local directory `out_dir`.
   */
  library?: Library;
  /** How long a job whose upload failed waits before it is offered again (default 60 s). */
  storeRetryMs?: number;
}

export interface Services {
  config: Config;
  now: () => number;
  /** The SQLite state database; undefined when the state is in PostgreSQL (`database_url`). */
  db: Database | undefined;
  /** Every shared store (SQLite or PostgreSQL). */
  stores: StateStores;
  /** The job queue on the shared state. */
  queue: JobQueue;
  /** The runner registry on the shared state. */
  runners: RunnerRegistry;
  /** Quota counters on the shared state. */
  usage: UsageStore;
  politeness: Politeness;
  http: HttpClient;
  /** Credentials and per-resolver settings, from the configuration alone (config/env.ts filled it). */
  settings: ResolverSettings;
  /** Resolvers that cannot run with this configuration (log each once). */
  warnings: string[];
  /** Where files are stored: a local directory or an object store. */
  library: Library;
  /** Daily quotas per source, counted in the state database with every other process's. */
  quota: Quotas;
  /** Writes a library URL index entry (the runner does it inside its ack instead). */
  recordStoredUrl: RecordStoredUrl;
  /** Stale temp files removed at start. */
  swept: number;
  /**
   * The job step (resolve + download, attempts recorded) over these parts; the first call starts
   * the download threads, which close() stops.
   */
  step(extra?: Pick<PipelineDeps, "metrics" | "space" | "tracer">): JobStep;
  /** Runs `fn` at close(), before the database closes (latest first). */
  onClose(fn: () => unknown): void;
  close(): Promise<void>;
}

/**
 * The HTTP client over a state database: its politeness gate, metadata cache and shared robots.txt
 * verdicts.
 */
function stateHttpClient(
  stores: StateStores,
  config: Config,
  politeness: Politeness,
  o: ServicesOptions,
): HttpClient {
  const rows = stores.cacheRows;
  const cache = createMetadataCache(rows as Parameters<typeof createMetadataCache>[0], {
    defaultTtlMs: config.network.cache_ttl_s * 1000,
    maxBytes: config.network.cache_max_bytes,
  });
  return createHttpClient({
    config,
    politeness,
    version: VERSION,
    cache,
    robotsStore: stores.robots,
    now: o.now,
    lookup: o.lookup,
    transport: o.transport,
    onSlowDown: o.onSlowDown,
  });
}

export async function openServices(config: Config, o: ServicesOptions = {}): Promise<Services> {
  const now = o.now ?? Date.now;
  mkdirSync(config.state_dir, { recursive: true });
  const library = o.library ?? localLibrary(config.out_dir);
  const swept =
    o.sweepTemp === false
      ? 0
      : sweepTempFiles(library.tempBase, config.download.temp_max_age_s * 1000, now());
  const stores = await openStateStores(config);
  const { db } = stores;
  const closers: (() => unknown)[] = [() => stores.close()];
  try {
    const politeness = createPoliteness({ store: stores.hostState, config, now, owner: o.owner });
    closers.push(() => politeness.close());
    const http = stateHttpClient(stores, config, politeness, { ...o, now });
    const settings = resolverSettings(config);
    const quota = new Quotas(stores.usage, config, now);
    const urls = stores.storedUrls;
    let threads: DownloadThreads | undefined;
    const services: Services = {
      config,
      now,
      db,
      stores,
      queue: stores.queue(now),
      runners: stores.runners,
      usage: stores.usage,
      politeness,
      http,
      settings,
      warnings: resolverWarnings(config, settings),
      library,
      quota,
      recordStoredUrl: stores.recordStoredUrl,
      swept,
      step(extra = {}) {
        if (!threads) {
          const started = startDownloadThreads();
          threads = started;
          closers.push(() => started.close());
        }
        return resolveAndDownload({
          config,
          http,
          settings,
          now,
          threads,
          storedUrls: urls,
          quota,
          library,
          storeRetryMs: o.storeRetryMs,
          ...extra,
        });
      },
      onClose(fn) {
        closers.push(fn);
      },
      async close() {
        // Latest first, each even when another failed: the database closes last.
        let failure: unknown;
        for (const c of closers.splice(0).reverse()) {
          try {
            await c();
          } catch (e) {
            if (o.onCloseError) o.onCloseError(e);
            else failure ??= e;
          }
        }
        if (failure !== undefined) throw failure;
      },
    };
    return services;
  } catch (e) {
    for (const c of closers.splice(0).reverse()) await c();
    throw e;
  }
}
