// What the status endpoint needs from the rest of the product: a read model of the queue, and the
// control actions a running runner allows. The store implements these; `serve` passes no controls.
import type { JobState, QueueStats } from "../telemetry/snapshots.ts";

export interface JobPage {
  jobs: object[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface JobDetail {
  job: object;
  attempts: object[];
  /** Every terminal outcome of the job, oldest first. */
  outcomes: object[];
}

/** The queue as the status endpoint reads it; the store's JobQueue satisfies it plus `ping`. */
export interface StatusReadModel {
  /** Throws (or returns false) when the database cannot be queried. */
  ping(): boolean | Promise<boolean>;
  stats(): QueueStats | Promise<QueueStats>;
  /** Throws `BadCursorError` (or any error named so) for a cursor it did not issue. */
  list(filter: { state?: JobState; limit?: number; cursor?: string }): JobPage | Promise<JobPage>;
  /** By job id or artifact id; null when unknown. */
  show(id: string): JobDetail | null | undefined | Promise<JobDetail | null | undefined>;
}

export interface StatusControls {
  pause(): void | Promise<void>;
  resume(): void | Promise<void>;
  /** Moves `error` jobs (optionally only those with this reason) back to `queued`; returns how many. */
  retryFailed(opts: { reason?: string }): number | Promise<number>;
}

export class BadCursorError extends Error {
  override name = "BadCursorError";
}
