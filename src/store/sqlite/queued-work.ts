// The work still queued on the SQLite state, as `docstokg plan` forecasts it: each queued or leased
// job's artifact and saved progress (raw JSON), streamed so a large queue is never held in memory.
import type { Database } from "bun:sqlite";

export interface QueuedWorkRow {
  artifact: string;
  progress: string | null;
}

export function queuedWork(db: Database): IterableIterator<QueuedWorkRow> {
  return db
    .query<QueuedWorkRow, []>("SELECT artifact, progress FROM jobs WHERE state IN ('queued', 'in_progress')")
    .iterate();
}
