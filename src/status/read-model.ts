// What the status endpoint needs from the rest of the product: a read model of the queue, and the
// control actions a running runner allows. The store implements these; `serve` passes controls only
// when a status token is configured.
import type { ReasonGroup } from "../store/jobs/failures.ts";
import type { RunnerRow } from "../store/runners.ts";
import type { Report } from "../telemetry/report.ts";
import type { JobState, QueueStats } from "../telemetry/snapshots.ts";

export type { ReasonGroup, RunnerRow };
export type YieldFigures = Report["yield"];

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

export interface JobFilter {
  state?: JobState;
  reason?: string;
  limit?: number;
  cursor?: string;
}

/** The queue as the status endpoint reads it; the store's JobQueue satisfies most of it plus `ping`. */
export interface StatusReadModel {
  /** Throws (or returns false) when the database cannot be queried. */
  ping(): boolean | Promise<boolean>;
  stats(): QueueStats | Promise<QueueStats>;
  /** Throws `BadCursorError` (or any error named so) for a cursor it did not issue. */
  list(filter: JobFilter): JobPage | Promise<JobPage>;
  /** By job id or artifact id; null when unknown. */
  show(id: string): JobDetail | null | undefined | Promise<JobDetail | null | undefined>;
  /** Jobs named by an artifact id, a DOI in any spelling or a job id (a few at most). */
  search?(query: string): object[] | Promise<object[]>;
  /** Failed and skipped jobs grouped by reason, with a few examples each. */
  failures?(): ReasonGroup[] | Promise<ReasonGroup[]>;
  /** Yield per resolver and tier (what `report` prints), given the counts by state. */
  yieldFigures?(counts: QueueStats["counts"]): YieldFigures | Promise<YieldFigures>;
  /** The runner registry's rows. */
  runners?(): RunnerRow[] | Promise<RunnerRow[]>;
}

export interface RequeueOutcome {
  requeued: number[];
  notFound: string[];
  inProgress: string[];
}

export interface StatusControls {
  pause(): void | Promise<void>;
  resume(): void | Promise<void>;
  /** Moves `error` jobs (optionally only those with this reason) back to `queued`; returns how many. */
  retryFailed(opts: { reason?: string }): number | Promise<number>;
  /** Puts one job (by id or artifact id) back to queued unless a runner holds it. */
  requeue?(id: string): RequeueOutcome | Promise<RequeueOutcome>;
}

export class BadCursorError extends Error {
  override name = "BadCursorError";
}
