// A real queue (in-memory SQLite, store migrations) and politeness layer seeded with jobs in every
// state and a few hosts, for the status endpoint and metrics tests.
import type { Database } from "bun:sqlite";
import { type Config, defaultConfig } from "../../src/config/schema.ts";
import { Politeness } from "../../src/politeness/politeness.ts";
import { openDatabase } from "../../src/store/db.ts";
import { queuePolicy, SqliteJobQueue } from "../../src/store/sqlite-queue.ts";

export const NOW = Date.UTC(2026, 10, 26, 20, 0, 0);

export interface StatusFixture {
  db: Database;
  queue: SqliteJobQueue;
  politeness: Politeness;
  config: Config;
}

/**
 * 22 jobs: 10 done, 1 skipped, 4 error (2 × http_500, 2 × not_found), 2 in progress, 5 queued.
 * Hosts: arxiv.org (closed, one failure), slow.example (open breaker, cooling down, 4 × 429).
 */
export async function statusFixture(
  config: Config = defaultConfig(),
  path = ":memory:",
  /** The fixture's clock; a test that runs the binary passes the real time (it shows the last hour). */
  now = NOW,
): Promise<StatusFixture> {
  const db = openDatabase(path);
  const queue = new SqliteJobQueue(db, queuePolicy(config.queue), { now: () => now });
  await queue.enqueue(
    Array.from({ length: 22 }, (_, i) => ({
      id: `doi:10.1000/${i + 1}`,
      doi: `10.1000/${i + 1}`,
      pdf_urls: [`https://pdfs.example/${i + 1}.pdf?api_key=SECRETKEY`],
    })),
  );
  const leased = await queue.lease("fixture", 17);
  for (const [k, job] of leased.entries()) {
    if (k < 10) {
      await queue.ack(job.id, job.token, {
        state: "done",
        reason: "ok",
        attempts: [
          {
            resolver: "unpaywall",
            tier: 2,
            url: `https://pdfs.example/${job.id}.pdf?api_key=SECRETKEY`,
            host: "pdfs.example",
            httpStatus: 200,
            reason: "ok",
          },
        ],
      });
    } else if (k === 10) {
      await queue.ack(job.id, job.token, { state: "skipped", reason: "robots_disallowed" });
    } else if (k < 15) {
      await queue.fail(job.id, job.token, { reason: k < 13 ? "http_500" : "not_found", transient: false });
    }
  }
  const politeness = new Politeness({ db, config, now: () => now, renewEveryMs: 0 });
  politeness.store.updateHost("arxiv.org", now, (row) => ({ ...row, failures: 1 }));
  politeness.store.updateHost("slow.example", now, (row) => ({
    ...row,
    breaker: "open",
    failures: 5,
    open_until: now + 60_000,
    cooldown_until: now + 90_000,
    count_429: 4,
  }));
  return { db, queue, politeness, config };
}
