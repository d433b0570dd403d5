// Adapts the store's JobQueue and whole-queue reads (store/reads: SQLite or PostgreSQL) to what the
// status endpoint reads and controls. URLs in job details pass through the one redaction helper, so
// a key in a query string never leaves through the API.
import type { Database } from "bun:sqlite";
import { redactDeep } from "../core/redact.ts";
import { searchKeys } from "../store/jobs/search.ts";
import { statsFromRows, statsQueries } from "../store/jobs/stats.ts";
import type { QueryThread } from "../store/query-thread.ts";
import type { StateReads } from "../store/reads.ts";
import { type RunnerRegistry, sqliteRunnerRegistry } from "../store/runners.ts";
import { sqliteReads } from "../store/sqlite/reads.ts";
import type { JobQueue } from "../store/types.ts";
import { YIELD_QUERIES, type YieldRows, yieldFromRows } from "../telemetry/report.ts";
import { BadCursorError, type StatusControls, type StatusReadModel } from "./read-model.ts";

export interface ReadModelOptions {
  /**
   * Where the SQLite counts over the whole queue run (stats, yield), so they never stall the
   * serving thread; without one (PostgreSQL, an in-memory database), or when it fails, they run here.
   */
  thread?: QueryThread;
  now?: () => number;
}

/** The read model over a queue, its whole-queue reads and the runner registry (either database). */
export function stateReadModel(
  queue: JobQueue,
  reads: StateReads,
  runners: RunnerRegistry,
  o: ReadModelOptions = {},
): StatusReadModel {
  const now = o.now ?? Date.now;
  /** The thread's answer, or this thread's when there is none or it failed. */
  const offThread = async <T>(onThread: (t: QueryThread) => Promise<T>, here: () => T | Promise<T>) => {
    if (!o.thread) return here();
    try {
      return await onThread(o.thread);
    } catch {
      return here();
    }
  };
  return {
    ping: () => reads.ping(),
    stats: () =>
      offThread(
        async (t) => {
          const at = now();
          return statsFromRows((await t.run(statsQueries(at))) as never, at);
        },
        () => queue.stats(),
      ),
    list: async (filter) => {
      try {
        const page = await queue.list(filter);
        return { jobs: page.jobs.map((j) => redactDeep(j) as object), nextCursor: page.nextCursor };
      } catch (err) {
        // The store rejects a cursor it did not issue with a RangeError.
        if (err instanceof RangeError) throw new BadCursorError(err.message.replace(/^cursor:\s*/, ""));
        throw err;
      }
    },
    show: async (id) => {
      const detail = await queue.show(id);
      return detail && (redactDeep(detail) as typeof detail);
    },
    search: async (query) => {
      const { artifactIds, jobId } = searchKeys(query);
      if (artifactIds[0] === "") return [];
      const found = await reads.searchJobs(
        artifactIds,
        jobId !== null && Number.isSafeInteger(jobId) ? jobId : null,
      );
      return found.map((j) => redactDeep(j) as object);
    },
    failures: () => reads.failures(),
    yieldFigures: (counts) =>
      offThread(
        async (t) => {
          const [tries, byResolver, byTier] = await t.run([
            { sql: YIELD_QUERIES.tries },
            { sql: YIELD_QUERIES.byResolver },
            { sql: YIELD_QUERIES.byTier },
          ]);
          return yieldFromRows(counts, { tries, byResolver, byTier } as YieldRows);
        },
        async () => yieldFromRows(counts, await reads.yieldRows()),
      ),
    runners: () => runners.list(),
  };
}

/** The read model over a SQLite state database (tests, the in-process status page). */
export function queueReadModel(queue: JobQueue, db: Database, o: ReadModelOptions = {}): StatusReadModel {
  return stateReadModel(queue, sqliteReads(db), sqliteRunnerRegistry(db), o);
}

export function queueControls(queue: JobQueue): StatusControls {
  return {
    pause: () => queue.pause(),
    resume: () => queue.resume(),
    retryFailed: ({ reason }) => queue.retryFailed({ reason }),
    requeue: (id) => queue.requeue([id]),
  };
}
