// Work in the foreground (`docstokg fetch` / `docstokg resolve`): the runner's own job step on the
// composition root's parts, run without a lease — no job, attempt or manifest row is written; only
// the library's URL index learns of a stored file, at once, since there is no ack to carry it.
import type { Artifact } from "../artifact/artifact.ts";
import { runPlan } from "../resolve/plan.ts";
import type { PlanProgress } from "../resolve/progress.ts";
import type { JobStep, StepContext, StepResult } from "../runner/step.ts";
import type { LeasedJob } from "../store/types.ts";
import type { Services } from "./services.ts";

/** A job that never was in a queue: the step reads only its artifact (and no saved progress). */
export function foregroundJob(work: Artifact): LeasedJob {
  return {
    id: 0,
    artifactId: work.id,
    artifact: work,
    priority: 0,
    attempts: 0,
    maxAttempts: null,
    token: "",
    owner: "foreground",
    leaseExpiresAt: Number.POSITIVE_INFINITY,
    progress: null,
  };
}

/** No lease to guard and nothing to resume later: progress is not kept, the command's signal aborts. */
export function foregroundContext(signal: AbortSignal = new AbortController().signal): StepContext {
  return { signal, saveProgress: () => {} };
}

export interface Foreground {
  /**
   * Resolve and download one work exactly as a runner's job would (same retries, quotas, reuse of
   * stored URLs, conditional requests and reasons); a wait longer than `politeness.max_wait_s` ends
   * the work with its reason and `retryAt`.
   */
  fetch(work: Artifact, signal?: AbortSignal): Promise<StepResult>;
  /** The candidates by tier and resolver, nothing downloaded (landing pages fetched with scrapeLanding). */
  list(work: Artifact, o: { scrapeLanding: boolean; signal?: AbortSignal }): Promise<PlanProgress>;
}

export function foreground(s: Services): Foreground {
  // Built at the first fetch: `resolve` downloads nothing and needs no download threads.
  let step: JobStep | undefined;
  return {
    async fetch(work, signal) {
      step ??= s.step();
      const r = await step(foregroundJob(work), foregroundContext(signal));
      if (r.ok && r.stored) await s.recordStoredUrl(r.stored, work.id, s.now());
      return r;
    },
    async list(work, o) {
      const r = await runPlan(work, {
        config: s.config,
        settings: s.settings,
        http: s.http,
        signal: o.signal,
        quota: s.quota,
        listOnly: { scrapeLanding: o.scrapeLanding },
      });
      return r.progress;
    },
  };
}
