// `queue run` assembled on the composition root (services.ts: database, politeness, HTTP client,
// job step): the queue and the runner registry, metrics, the manifest outbox, the status endpoint,
// OTLP export and the progress line; SIGINT/SIGTERM for the graceful shutdown.
import { hostname } from "node:os";
import type { ConsolaInstance } from "consola";
import type { Config } from "../config/schema.ts";
import { DiskSpaceGate, type SpaceVerdict } from "../download/disk-space.ts";
import type { Library } from "../library/library.ts";
import { openWritableLibrary } from "../library/open.ts";
import type { Transport } from "../net/fetch.ts";
import type { Lookup } from "../net/gate.ts";
import { selfIdentity } from "../runner/identity.ts";
import { Orchestrator, type RunSummary } from "../runner/orchestrator.ts";
import { reclaimAndRegister } from "../runner/reclaim.ts";
import type { JobStep } from "../runner/step.ts";
import { type StatusServer, startStatusServer } from "../status/server.ts";
import { connectionHealth } from "../store/postgres/health.ts";
import { watchPause } from "../store/postgres/pause-watch.ts";
import { isRetryable } from "../store/postgres/retry.ts";
import { sqliteOutboxStore } from "../store/sqlite/outbox.ts";
import { randomToken } from "../store/sqlite-queue.ts";
import { FleetManifestWriter, stateInstanceId } from "../telemetry/fleet-manifest.ts";
import { formatBytes } from "../telemetry/format.ts";
import { ManifestWriter, manifestPath } from "../telemetry/manifest.ts";
import { displayEndpoint, OtlpExporter, otlpSettings } from "../telemetry/otlp-exporter.ts";
import { createProductMetrics } from "../telemetry/product-metrics.ts";
import { ProgressReporter } from "../telemetry/progress.ts";
import { terminalJobs, totalJobs } from "../telemetry/snapshots.ts";
import { ThroughputSampler } from "../telemetry/throughput.ts";
import type { Tracer } from "../telemetry/tracing.ts";
import { VERSION } from "../version.ts";
import { openServices } from "./services.ts";
import { stateStatusApp } from "./status.ts";

export interface RunOptions {
  config: Config;
  log: ConsolaInstance;
  drain: boolean;
  /** Status endpoint address, or null for none. */
  statusAddress: string | null;
  /** Live line on a TTY, periodic records in JSON log mode, or nothing. */
  progress: "tty" | "json" | "off";
  /** Replaces resolve + download (benchmarks); queue, leases and commits stay real. */
  step?: JobStep;
  lookup?: Lookup;
  transport?: Transport;
  now?: () => number;
  /** Install SIGINT/SIGTERM handlers (default true). */
  signals?: boolean;
  /** Told once the status endpoint listens. */
  onListening?(url: URL): void;
  /** Hands out the orchestrator (tests stop it without a signal). */
  onStart?(o: Orchestrator): void;
  /** The HTTP client for OTLP export (default: the runtime's fetch; the collector is not gated). */
  otlpFetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** The library, opened and probed; without it, out_dir is opened (and an object store probed) here. */
  library?: Library;
  /** How long a job whose upload failed waits before it is offered again. */
  storeRetryMs?: number;
}

/** How often the status page's throughput chart gets a sample, and the manifest is flushed. */
const SAMPLE_EVERY_MS = 5000;
const MANIFEST_FLUSH_MS = 1000;
/** Politeness deferrals due within this long stay leased by this runner (see Orchestrator). */
const PARK_MAX_MS = 5000;

export class StatusListenError extends Error {
  override name = "StatusListenError";
}

/** The log line for a change of the disk-space gate. */
export function diskSpaceLine(
  v: SpaceVerdict & { reason: "low" | "full" | "recovered" },
  config: Pick<Config, "out_dir" | "orchestrator">,
): string {
  const free = v.freeBytes === null ? "unknown space" : formatBytes(v.freeBytes);
  const floor = formatBytes(config.orchestrator.min_free_bytes);
  if (v.reason === "full") {
    return `disk full: a download into ${config.out_dir} failed with no space left on the device; the job was released without counting an attempt, and leasing is paused until ${floor} (orchestrator.min_free_bytes) are free`;
  }
  if (v.reason === "low") {
    return `low disk space: ${free} free under ${config.out_dir}, below orchestrator.min_free_bytes (${floor}); leasing is paused until space returns`;
  }
  return `disk space back: ${free} free under ${config.out_dir}; leasing resumed`;
}

export async function runQueue(o: RunOptions): Promise<RunSummary> {
  const { config, log } = o;
  const now = o.now ?? Date.now;
  // Wrong credentials or a missing bucket end the run here, before a job is leased.
  const library = o.library ?? (await openWritableLibrary(config, process.env));
  const owner = `${hostname()}:${process.pid}:${randomToken().slice(0, 8)}`;
  // The runner id also owns this process's host slots, so a successor can free them after a crash.
  const services = await openServices(config, {
    now,
    owner,
    library,
    storeRetryMs: o.storeRetryMs,
    lookup: o.lookup,
    transport: o.transport,
    onCloseError: (e) => log.warn("cleanup failed", e),
  });
  const { db, politeness, queue, runners } = services;
  const cleanups: (() => unknown)[] = [() => services.close()];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn("cleanup failed", e);
      }
    }
  };
  // A restart or outage of PostgreSQL: every store retries with backoff; the log says so once.
  const pool = services.stores.sql;
  if (pool) {
    const unlisten = connectionHealth(pool).listen({
      down: (e) =>
        log.warn(
          `database ${services.stores.where} unreachable (${e instanceof Error ? e.message : String(e)}); in-flight work is kept and statements are retried with backoff`,
        ),
      up: (ms) =>
        log.info(`database ${services.stores.where} reachable again after ${(ms / 1000).toFixed(1)} s`),
    });
    cleanups.push(unlisten);
  }
  try {
    const reclaimed = await reclaimAndRegister({
      registry: runners,
      id: owner,
      host: hostname(),
      version: VERSION,
      identity: selfIdentity(process.env),
      now: now(),
    });
    cleanups.push(() => runners.remove(owner));
    if (reclaimed.runners.length > 0)
      log.info(
        `took back ${reclaimed.jobs} job(s) and the host slots held by ${reclaimed.runners.length} runner(s) of this machine whose process is gone (pid ${reclaimed.runners.map((r) => r.pid).join(", ")})`,
        { reclaimedJobs: reclaimed.jobs, runners: reclaimed.runners.map((r) => r.id) },
      );

    if (services.swept > 0)
      log.info(`removed ${services.swept} stale temp file(s) left by interrupted downloads`);

    const hosts = () => politeness.hostsSnapshot();
    const metrics = createProductMetrics({
      stats: () => queue.stats(),
      hosts,
      configuredHosts: Object.keys(config.politeness.hosts),
      onCollectError: (e) => log.debug("metrics collection failed", e),
    });
    // OTLP export: the operator's own collector, so the runtime's fetch, outside the URL gate.
    let tracer: Tracer | undefined;
    const otlp = otlpSettings(config, { version: VERSION, instanceId: owner, hostName: hostname() });
    if (otlp) {
      const exporter = new OtlpExporter({
        settings: otlp,
        registry: metrics.registry,
        log: { warn: (m) => log.warn(m), debug: (m) => log.debug(m) },
        fetch: o.otlpFetch,
      });
      exporter.start();
      tracer = exporter.tracer;
      // Runs before the database closes (cleanups go in reverse): the last metrics read the queue.
      cleanups.push(() => exporter.shutdown());
      log.info(
        `OTLP export to ${displayEndpoint(otlp.endpoint)} (${otlp.protocol}): metrics every ${config.telemetry.otlp_interval_s} s and at shutdown, one trace per job`,
      );
    }
    const space = new DiskSpaceGate({
      // The disk that fills: the library's, or for an object store the one its temp files are on.
      dir: library.tempBase,
      minFreeBytes: config.orchestrator.min_free_bytes,
      checkEveryMs: config.orchestrator.disk_check_s * 1000,
      now,
      onChange: (v) => log[v.ok ? "info" : v.reason === "full" ? "error" : "warn"](diskSpaceLine(v, config)),
    });
    let step = o.step;
    if (!step) {
      for (const w of services.warnings) log.warn(w);
      step = services.step({ metrics, space, tracer });
    }

    const manifest = !config.telemetry.manifest
      ? undefined
      : db
        ? new ManifestWriter({
            path: manifestPath(config.state_dir),
            store: sqliteOutboxStore(db),
            onReconcile: (i) => log.info("manifest: continued after an interrupted append", i),
          })
        : new FleetManifestWriter({
            sql: services.stores.sql as NonNullable<typeof services.stores.sql>,
            path: manifestPath(config.state_dir),
            instance: stateInstanceId(config.state_dir),
            onReconcile: (i) => log.info("manifest: continued after an interrupted append", i),
          });
    // On PostgreSQL other runners' outcomes may be waiting for a claim too: always look.
    let manifestDirty = true;
    let flushing: Promise<void> | undefined;
    const flushManifest = (): Promise<void> => {
      if (!manifest || (!manifestDirty && db) || flushing) return flushing ?? Promise.resolve();
      manifestDirty = false;
      const failed = (e: unknown) => {
        manifestDirty = true;
        // A dropped connection is the outage already logged once; the next flush continues.
        if (pool && isRetryable(e)) connectionHealth(pool).failed(e);
        else log.warn("manifest: append failed; retrying", e);
      };
      try {
        const r = manifest.flush();
        if (!(r instanceof Promise)) return Promise.resolve();
        flushing = r.then(
          () => {
            if (pool) connectionHealth(pool).succeeded();
          },
          (e) => failed(e),
        );
        flushing = flushing.finally(() => {
          flushing = undefined;
        });
        return flushing;
      } catch (e) {
        failed(e);
        return Promise.resolve();
      }
    };
    await flushManifest(); // outcomes an earlier run committed but did not append
    const manifestTimer = setInterval(flushManifest, MANIFEST_FLUSH_MS);
    cleanups.push(() => clearInterval(manifestTimer));

    // What this process did, plus the queue's counts refreshed now and then for the progress line.
    let completed = 0;
    let bytes = 0;
    let base = await queue.stats();
    let baseCompleted = 0;
    const throughput = new ThroughputSampler(360);
    const sample = () => throughput.record({ t: now(), done: completed, bytes });
    sample();

    const orchestrator = new Orchestrator({
      queue,
      owner,
      step,
      groupCommit: true,
      // Short politeness waits are waited out here without a worker; longer ones go back to the
      // queue, where a job released later than the ready backlog would be taken up only after it.
      parkMaxMs: PARK_MAX_MS,
      maxWorkers: config.orchestrator.max_workers,
      leaseBatch: config.orchestrator.lease_batch,
      heartbeatMs: config.queue.heartbeat_s * 1000,
      pollMs: config.orchestrator.poll_interval_s * 1000,
      graceMs: config.orchestrator.shutdown_grace_s * 1000,
      drain: o.drain,
      drainMaxDelayMs: config.orchestrator.drain_max_delay_s * 1000,
      now,
      space,
      tracer,
      onOutcome: ({ job, commit, committed, failed, step: result }) => {
        bytes += result?.bytes ?? 0;
        if (!committed) return;
        // Terminal outcomes only: a failure that will be retried is not a completion yet.
        const ended =
          commit.kind === "ack"
            ? { state: commit.outcome.state, reason: commit.outcome.reason }
            : commit.kind === "fail" && failed?.state === "error"
              ? { state: "error", reason: commit.failure.reason }
              : undefined;
        if (!ended) return;
        completed++;
        manifestDirty = true;
        metrics.completions.inc(ended);
        log.debug(`${ended.state} ${job.artifactId} (${ended.reason})`);
      },
      onLeaseLost: (job) => {
        metrics.leaseLosses.inc();
        log.warn(`lease of job ${job.id} (${job.artifactId}) lost to another runner; its work was abandoned`);
      },
      onError: (what, e) => {
        if (pool && isRetryable(e)) connectionHealth(pool).failed(e);
        else log.error(`${what} failed:`, e);
      },
      onDrainExit: ({ delayed, nextAvailableAt }) => {
        if (delayed > 0 && nextAvailableAt !== null)
          log.info(
            `drained: ${delayed} job(s) wait for a retry until ${new Date(nextAvailableAt).toISOString()} or later (beyond orchestrator.drain_max_delay_s); run again to work them`,
          );
      },
    });
    o.onStart?.(orchestrator);
    if (pool) {
      // Pause and resume from any server reach this runner at once, not at its next poll.
      const unwatch = await watchPause(
        pool,
        (p) => orchestrator.setPaused(p),
        (e) => log.debug("pause watch: listening again failed", e),
      );
      cleanups.push(unwatch);
    }
    const registryBeat = setInterval(() => {
      try {
        const beat = runners.heartbeat(owner, now(), orchestrator.inFlight);
        if (beat instanceof Promise) beat.catch((e) => log.debug("runner registry heartbeat failed", e));
      } catch (e) {
        log.debug("runner registry heartbeat failed", e);
      }
    }, config.queue.heartbeat_s * 1000);
    cleanups.push(() => clearInterval(registryBeat));
    metrics.registry.onCollect(() => metrics.inFlight.set(undefined, orchestrator.inFlight));

    let server: StatusServer | undefined;
    if (o.statusAddress) {
      const status = stateStatusApp({
        config,
        stores: services.stores,
        queue,
        now,
        hosts,
        metrics: metrics.registry,
        address: o.statusAddress,
        controls: true,
        shuttingDown: () => orchestrator.shuttingDown,
        throughput,
      });
      cleanups.push(() => status.close());
      const app = status.app;
      try {
        server = startStatusServer(o.statusAddress, app, {
          token: config.status.token ?? config.status.read_token,
        });
      } catch (e) {
        throw new StatusListenError(e instanceof Error ? e.message : String(e));
      }
      const s = server;
      cleanups.push(() => s.stop());
      log.info(`status endpoint at ${server.url.href}`, { url: server.url.href });
      o.onListening?.(server.url);
    }
    const sampler = setInterval(sample, SAMPLE_EVERY_MS);
    cleanups.push(() => clearInterval(sampler));

    const reporter = new ProgressReporter({
      mode: o.progress,
      now,
      stream: process.stderr,
      log: (record) => {
        const { msg: _msg, ...fields } = record;
        log.info("progress", fields);
      },
      intervalMs: o.progress === "tty" ? 1000 : config.telemetry.progress_interval_s * 1000,
      read: () => ({
        done: terminalJobs(base) + (completed - baseCompleted),
        total: totalJobs(base),
        bytes,
        inFlight: orchestrator.inFlight,
      }),
    });
    const refresh = setInterval(() => {
      queue.stats().then(
        (s) => {
          base = s;
          baseCompleted = completed;
        },
        () => {},
      );
    }, 10_000);
    cleanups.push(() => clearInterval(refresh));
    reporter.start();
    cleanups.push(() => reporter.stop());

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) return; // the process-wide handler exits 130 on the second signal
      reporter.stop();
      log.info(
        `${signal}: stopping — no new leases; ${orchestrator.inFlight} job(s) in flight get ${config.orchestrator.shutdown_grace_s} s to finish, then are released; a second signal aborts at once`,
      );
      orchestrator.stop();
    };
    if (o.signals !== false) {
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      cleanups.push(() => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      });
    }

    log.info(
      `running as ${owner}: up to ${config.orchestrator.max_workers} jobs at once${o.drain ? ", until drained" : ""}`,
    );
    const summary = await orchestrator.run();
    reporter.stop();
    manifestDirty = true;
    await flushing;
    await flushManifest();
    return summary;
  } finally {
    await cleanup();
  }
}
