// `serve` on the composition root: the status page over opened state (SQLite in state_dir or
// PostgreSQL by database_url) — the queue, host state read through politeness without holding slots,
// metrics at scrape time, and throughput sampled from the outcomes (app/status.ts wires the page).
import type { Hono } from "hono";
import type { Config } from "../config/schema.ts";
import { Politeness } from "../politeness/politeness.ts";
import { OutcomeTotals } from "../status/read-only.ts";
import { createProductMetrics } from "../telemetry/product-metrics.ts";
import { ThroughputSampler } from "../telemetry/throughput.ts";
import type { StateStores } from "./state-stores.ts";
import { stateStatusApp } from "./status.ts";

export interface ServedStatus {
  app: Hono;
  /** Takes one throughput sample (call periodically). */
  sample(): Promise<void>;
  /** Stops what the page started; the state is closed by its owner. */
  close(): void;
}

export async function serveStatus(
  config: Config,
  stores: StateStores,
  now: () => number = Date.now,
): Promise<ServedStatus> {
  const controlled = config.status.token !== undefined;
  const queue = stores.queue(now);
  // No renewal timer and no close(): a page over the state holds no slots and must not write.
  const politeness = new Politeness({ store: stores.hostState, config, now, renewEveryMs: 0 });
  const hosts = () => politeness.hostsSnapshot();
  const metrics = createProductMetrics({
    stats: () => queue.stats(),
    hosts,
    configuredHosts: Object.keys(config.politeness.hosts),
  });
  const throughput = new ThroughputSampler(360);
  const totals = new OutcomeTotals(stores.reads);
  await totals.seed(throughput, now());
  const view = stateStatusApp({
    config,
    stores,
    queue,
    now,
    hosts,
    metrics: metrics.registry,
    address: config.status.listen,
    controls: controlled,
    label: controlled ? "serve · with controls" : "serve · read-only",
    throughput,
  });
  return {
    app: view.app,
    async sample() {
      await totals.advance();
      throughput.record({ t: now(), done: totals.done, bytes: totals.bytes });
    },
    close: () => view.close(),
  };
}
