// Adapts the store's JobQueue to what the status endpoint reads and controls. URLs in job details
// pass through the one redaction helper, so a key in a query string never leaves through the API.
import type { Database } from "bun:sqlite";
import type { SQL } from "bun";
import { redactDeep } from "../core/redact.ts";
import { failuresByReason } from "../store/jobs/failures.ts";
import { searchJobs } from "../store/jobs/search.ts";
import { statsFromRows, statsQueries } from "../store/jobs/stats.ts";
import type { QueryThread } from "../store/query-thread.ts";
import { listRunners, type RunnerRegistry } from "../store/runners.ts";
import type { JobQueue } from "../store/types.ts";
import { YIELD_QUERIES, type YieldRows, yieldFromRows, yieldOf } from "../telemetry/report.ts";
import { BadCursorError, type StatusControls, type StatusReadModel } from "./read-model.ts";

/** Whether the database has this table (a read-only view may look at an older schema). */
function hasTable(db: Database, name: string): boolean {
  return (
    db
      .query<{ n: number }, [string]>(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?1",
      )
      .get(name)?.n === 1
  );
}

export interface ReadModelOptions {
  /**
   * Where the counts over the whole queue run (stats, yield), so they never stall the serving
   * thread; without one (an in-memory database), or when it fails, they run here.
   */
  thread?: QueryThread;
  now?: () => number;
}

export function queueReadModel(queue: JobQueue, db: Database, o: ReadModelOptions = {}): StatusReadModel {
  const probe = db.query("SELECT 1 FROM jobs LIMIT 1");
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
    ping: () => {
      probe.all();
      return true;
    },
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
    search: (query) => searchJobs(db, query).map((j) => redactDeep(j) as object),
    failures: () => failuresByReason(db),
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
        () => yieldOf(db, counts),
      ),
    runners: () => (hasTable(db, "runners") ? listRunners(db) : []),
  };
}

/** The read model over a shared (PostgreSQL) queue: counts, pages, details and the runner registry. */
export function sharedReadModel(queue: JobQueue, runners: RunnerRegistry, sql: SQL): StatusReadModel {
  return {
    ping: async () => {
      await sql`SELECT 1`;
      return true;
    },
    stats: () => queue.stats(),
    list: async (filter) => {
      try {
        const page = await queue.list(filter);
        return { jobs: page.jobs.map((j) => redactDeep(j) as object), nextCursor: page.nextCursor };
      } catch (err) {
        if (err instanceof RangeError) throw new BadCursorError(err.message.replace(/^cursor:\s*/, ""));
        throw err;
      }
    },
    show: async (id) => {
      const detail = await queue.show(id);
      return detail && (redactDeep(detail) as typeof detail);
    },
    runners: () => runners.list(),
  };
}

export function queueControls(queue: JobQueue): StatusControls {
  return {
    pause: () => queue.pause(),
    resume: () => queue.resume(),
    retryFailed: ({ reason }) => queue.retryFailed({ reason }),
    requeue: (id) => queue.requeue([id]),
  };
}
