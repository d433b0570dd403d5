// Adapts the store's JobQueue to what the status endpoint reads and controls. URLs in job details
// pass through the one redaction helper, so a key in a query string never leaves through the API.
import type { Database } from "bun:sqlite";
import { redactDeep } from "../core/redact.ts";
import type { JobQueue } from "../store/types.ts";
import { BadCursorError, type StatusControls, type StatusReadModel } from "./read-model.ts";

export function queueReadModel(queue: JobQueue, db: Database): StatusReadModel {
  const probe = db.query("SELECT 1 FROM jobs LIMIT 1");
  return {
    ping: () => {
      probe.all();
      return true;
    },
    stats: () => queue.stats(),
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
  };
}

export function queueControls(queue: JobQueue): StatusControls {
  return {
    pause: () => queue.pause(),
    resume: () => queue.resume(),
    retryFailed: ({ reason }) => queue.retryFailed({ reason }),
  };
}
