// A small in-memory queue with the read model and controls the status endpoint consumes, for route
// tests that must not depend on the SQLite store. Cursors are opaque and checked like the store's.
import {
  BadCursorError,
  type JobDetail,
  type StatusControls,
  type StatusReadModel,
} from "../../src/status/read-model.ts";
import { JOB_STATES, type JobState, type QueueStats } from "../../src/telemetry/snapshots.ts";

export interface MemoryJob {
  id: number;
  artifactId: string;
  state: JobState;
  lastReason: string | null;
}

export class MemoryQueue implements StatusReadModel, StatusControls {
  paused = false;
  reachable = true;
  jobs: MemoryJob[] = [];
  attempts = new Map<number, object[]>();

  constructor(counts: Partial<Record<JobState, number>> = {}) {
    let id = 0;
    for (const state of JOB_STATES) {
      for (let i = 0; i < (counts[state] ?? 0); i++) {
        id++;
        this.jobs.push({
          id,
          artifactId: `doi:10.1000/${id}`,
          state,
          lastReason: state === "error" ? (id % 2 ? "http_500" : "timeout") : state === "done" ? "ok" : null,
        });
      }
    }
  }

  ping(): boolean {
    if (!this.reachable) throw new Error("SQLITE_CANTOPEN: unable to open database file");
    return true;
  }

  stats(): QueueStats {
    const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    for (const j of this.jobs) counts[j.state]++;
    return { counts, ready: counts.queued, delayed: 0, oldestReadyAgeMs: null, paused: this.paused };
  }

  list(f: { state?: JobState; limit?: number; cursor?: string }) {
    let after = 0;
    if (f.cursor !== undefined) {
      const m = /^j(\d+)$/.exec(f.cursor);
      if (!m) throw new BadCursorError(`"${f.cursor}" was not issued by this queue`);
      after = Number(m[1]);
    }
    const limit = f.limit ?? 50;
    const matching = this.jobs.filter((j) => (!f.state || j.state === f.state) && j.id > after);
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    return { jobs: page, nextCursor: matching.length > limit && last ? `j${last.id}` : null };
  }

  show(id: string): JobDetail | null {
    const job = this.jobs.find((j) => String(j.id) === id || j.artifactId === id);
    if (!job) return null;
    return { job, attempts: this.attempts.get(job.id) ?? [], outcomes: [] };
  }

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  retryFailed(opts: { reason?: string }): number {
    let n = 0;
    for (const j of this.jobs) {
      if (j.state === "error" && (!opts.reason || j.lastReason === opts.reason)) {
        j.state = "queued";
        n++;
      }
    }
    return n;
  }
}
