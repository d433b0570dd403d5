// The status view of a state directory (`docstokg serve`): the queue database opened read-only, so a
// read-only state directory works (read-write only when `status.token` is set, for the control
// routes), host state from the politeness tables, metrics from the store at scrape time, and
// throughput sampled from the outcomes table (seeded with the last hour so the chart starts full).
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import type { Hono } from "hono";
import type { Config } from "../config/schema.ts";
import { Politeness } from "../politeness/politeness.ts";
import { sourceUsage } from "../quota/gate.ts";
import { DatabaseMissingError, databasePath, openDatabase, openDatabaseReadOnly } from "../store/db.ts";
import { queryThreadFor } from "../store/query-thread.ts";
import { queuePolicy, SqliteJobQueue } from "../store/sqlite-queue.ts";
import { createProductMetrics } from "../telemetry/product-metrics.ts";
import { ThroughputSampler } from "../telemetry/throughput.ts";
import { createStatusApp } from "./app.ts";
import { readNeedsToken } from "./listen.ts";
import { queueControls, queueReadModel } from "./queue-read-model.ts";

export class NoStateError extends Error {
  override name = "NoStateError";
}

/**
 * Outcome counts and bytes since the chart's window began, advanced incrementally by seq (a
 * primary-key range scan). Older outcomes are not counted: only the rates matter.
 */
export class OutcomeTotals {
  private lastSeq = 0;
  done = 0;
  bytes = 0;
  private readonly after;
  private readonly perMinute;
  private readonly maxSeq;

  constructor(db: Database) {
    this.after = db.query<{ n: number; b: number; s: number | null }, [number]>(
      "SELECT count(*) AS n, total(bytes) AS b, max(seq) AS s FROM outcomes WHERE seq > ?",
    );
    this.maxSeq = db.query<{ s: number | null }, []>("SELECT max(seq) AS s FROM outcomes");
    this.perMinute = db.query<{ m: number; n: number; b: number; s: number }, [number]>(
      `SELECT finished_at / 60000 AS m, count(*) AS n, total(bytes) AS b, max(seq) AS s
         FROM outcomes WHERE finished_at >= ? GROUP BY m ORDER BY m`,
    );
  }

  /** Fills the sampler with one sample per minute of the last `minutes`, ending now. */
  seed(sampler: ThroughputSampler, now: number, minutes = 60): void {
    const from = Math.floor(now / 60000) * 60000 - minutes * 60000;
    const rows = this.perMinute.all(from);
    let m = from / 60000;
    sampler.record({ t: from, done: 0, bytes: 0 });
    for (const r of rows) {
      // Minutes without outcomes still get a sample, so the chart shows the gap as zero.
      for (; m < r.m; m++) sampler.record({ t: (m + 1) * 60000, done: this.done, bytes: this.bytes });
      this.done += r.n;
      this.bytes += r.b;
      this.lastSeq = Math.max(this.lastSeq, r.s);
      sampler.record({ t: Math.min(now, (r.m + 1) * 60000), done: this.done, bytes: this.bytes });
      m = r.m + 1;
    }
    // Everything committed so far is now accounted for (older outcomes deliberately left out).
    this.lastSeq = Math.max(this.lastSeq, this.maxSeq.get()?.s ?? 0);
  }

  /** Adds the outcomes committed since the last call. */
  advance(): void {
    const r = this.after.get(this.lastSeq);
    if (!r || r.n === 0) return;
    this.done += r.n;
    this.bytes += r.b;
    this.lastSeq = r.s ?? this.lastSeq;
  }
}

export interface ReadOnlyStatus {
  app: Hono;
  /** Takes one throughput sample (call periodically). */
  sample(): void;
  close(): void;
}

export function openReadOnlyStatus(config: Config, now: () => number = Date.now): ReadOnlyStatus {
  const path = databasePath(config.state_dir);
  // Without a token nothing can be changed here, so nothing may write: the file is opened read-only.
  const controlled = config.status.token !== undefined;
  let db: Database;
  try {
    if (controlled && !existsSync(path)) throw new DatabaseMissingError(path);
    db = controlled ? openDatabase(path) : openDatabaseReadOnly(path);
  } catch (error) {
    if (!(error instanceof DatabaseMissingError)) throw error;
    throw new NoStateError(
      `no queue database at ${path}: point --state-dir at a state directory (created by "docstokg queue import")`,
    );
  }
  const queue = new SqliteJobQueue(db, queuePolicy(config.queue), { now });
  // No renewal timer and no close(): a read-only view holds no slots and must not write.
  const politeness = new Politeness({ db, config, now, renewEveryMs: 0 });
  const hosts = () => politeness.hostsSnapshot();
  const metrics = createProductMetrics({
    stats: () => queue.stats(),
    hosts,
    configuredHosts: Object.keys(config.politeness.hosts),
  });
  // Counts over every attempt and outcome (yield) run on a thread of their own.
  const thread = queryThreadFor(db);
  const throughput = new ThroughputSampler(360);
  const totals = new OutcomeTotals(db);
  totals.seed(throughput, now());
  const app = createStatusApp({
    store: queueReadModel(queue, db, { thread, now }),
    hosts,
    // A database older than this docstokg (read-only: not migrated) has no usage table yet.
    usage: () => {
      try {
        return sourceUsage(db, config, now());
      } catch {
        return [];
      }
    },
    metrics: metrics.registry,
    config,
    shuttingDown: () => false,
    controls: controlled ? queueControls(queue) : undefined,
    label: controlled ? "serve · with controls" : "serve · read-only",
    throughput,
    now,
    readProtected: readProtected(config.status.listen),
  });
  return {
    app,
    sample() {
      totals.advance();
      throughput.record({ t: now(), done: totals.done, bytes: totals.bytes });
    },
    close: () => {
      thread?.close();
      db.close();
    },
  };
}

/** A malformed address is reported when the server starts; until then, protect the reads. */
function readProtected(addr: string): boolean {
  try {
    return readNeedsToken(addr);
  } catch {
    return true;
  }
}
