// One runner's job path in-process over the simulated web: the real queue on a state database, the
// product step (direct resolver, download pipeline, URL index) and the real commit. Shared by the
// reuse tests and their kill -9 child.
import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { resolverSettings } from "../../src/resolve/resolver.ts";
import { resolveAndDownload } from "../../src/runner/pipeline.ts";
import type { JobStep } from "../../src/runner/step.ts";
import { type JobOutcome, runJob } from "../../src/runner/worker.ts";
import { openStateDatabase } from "../../src/store/db.ts";
import { queuePolicy, SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { storedUrls } from "../../src/store/stored-urls.ts";
import type { LeasedJob } from "../../src/store/types.ts";
import { makeClient, testConfig } from "../download/harness.ts";

export interface Runner {
  db: Database;
  queue: SqliteJobQueue;
  step: JobStep;
  outDir: string;
  /** Enqueue (or find) the artifact, lease it and run it to its commit. */
  run(id: string, url: string): Promise<JobOutcome>;
  lease(id: string, url: string): Promise<LeasedJob>;
  close(): void;
}

export function openRunner(dir: string): Runner {
  const config = testConfig();
  config.out_dir = join(dir, "library");
  config.state_dir = join(dir, "state");
  config.resolvers.tiers = [["direct"]];
  const db = openStateDatabase(config.state_dir);
  const queue = new SqliteJobQueue(db, queuePolicy(config.queue), { now: Date.now });
  const step = resolveAndDownload({
    config,
    http: makeClient(config),
    settings: resolverSettings(config),
    now: Date.now,
    storedUrls: storedUrls(db),
  });
  const lease = async (id: string, url: string): Promise<LeasedJob> => {
    await queue.enqueue([{ id, pdf_urls: [url] }]);
    const [job] = await queue.lease("test", 1);
    if (!job || job.artifactId !== id) throw new Error(`expected to lease ${id}, got ${job?.artifactId}`);
    return job;
  };
  return {
    db,
    queue,
    step,
    outDir: config.out_dir,
    lease,
    async run(id, url) {
      const job = await lease(id, url);
      return runJob(
        { job, controller: new AbortController() },
        { queue, step, now: Date.now, progressEveryMs: 60_000, onLeaseLost: () => {} },
      );
    },
    close: () => db.close(),
  };
}
