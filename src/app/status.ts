// The status endpoint over opened state, wired once for `queue run` (a runner's page, with controls)
// and `serve` (a page over the state, read-only unless status.token is set): the read model on the
// queue and the whole-queue reads of either database, today's usage, and who may read.
import type { Hono } from "hono";
import type { Config } from "../config/schema.ts";
import type { HostSnapshot } from "../politeness/politeness.ts";
import { sourceUsage } from "../quota/gate.ts";
import { createStatusApp } from "../status/app.ts";
import { readNeedsToken } from "../status/listen.ts";
import { queueControls, stateReadModel } from "../status/queue-read-model.ts";
import { queryThreadFor } from "../store/query-thread.ts";
import type { JobQueue } from "../store/types.ts";
import type { Registry } from "../telemetry/metrics.ts";
import type { ThroughputSampler } from "../telemetry/throughput.ts";
import type { StateStores } from "./state-stores.ts";

export interface StatusWiring {
  config: Config;
  stores: StateStores;
  queue: JobQueue;
  now: () => number;
  hosts: () => HostSnapshot[] | Promise<HostSnapshot[]>;
  metrics: Registry;
  /** The address the page is served on: a non-loopback one protects the read routes. */
  address: string;
  /** Offer pause, resume, retry-failed and requeue. */
  controls: boolean;
  shuttingDown?: () => boolean;
  throughput: ThroughputSampler;
  label?: string;
}

export interface StatusView {
  app: Hono;
  /** Stops the SQLite query thread (the state itself is closed by its owner). */
  close(): void;
}

export function stateStatusApp(w: StatusWiring): StatusView {
  // On SQLite the counts over every attempt run on a thread of their own; PostgreSQL is a server.
  const thread = w.stores.db ? queryThreadFor(w.stores.db) : undefined;
  const app = createStatusApp({
    store: stateReadModel(w.queue, w.stores.reads, w.stores.runners, { thread, now: w.now }),
    hosts: w.hosts,
    usage: () => sourceUsage(w.stores.usage, w.config, w.now()),
    metrics: w.metrics,
    config: w.config,
    shuttingDown: w.shuttingDown ?? (() => false),
    controls: w.controls ? queueControls(w.queue) : undefined,
    label: w.label,
    throughput: w.throughput,
    now: w.now,
    readProtected: readProtected(w.address),
  });
  return { app, close: () => thread?.close() };
}

/** A malformed address is reported when the server starts; until then, protect the reads. */
function readProtected(addr: string): boolean {
  try {
    return readNeedsToken(addr);
  } catch {
    return true;
  }
}
