// A real queue database (store migrations) and a helper that finishes jobs through the queue the
// way the runner does (enqueue → lease → ack/fail), so outcomes get their seq from the real store.
import type { Database } from "bun:sqlite";
import { defaultConfig } from "../../src/config/schema.ts";
import { openDatabase } from "../../src/store/db.ts";
import { queuePolicy, SqliteJobQueue } from "../../src/store/sqlite-queue.ts";

export function openOutboxDb(path: string): Database {
  return openDatabase(path);
}

/** Finishes `n` new jobs (every 7th in `error`); returns the number of outcomes afterwards. */
export async function commitOutcomes(
  db: Database,
  n: number,
  opts: { now?: number; meta?: Record<string, unknown> } = {},
): Promise<number> {
  const now = opts.now ?? Date.now();
  const queue = new SqliteJobQueue(db, queuePolicy(defaultConfig().queue), { now: () => now });
  const start = db.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs").get()?.n ?? 0;
  const artifacts = Array.from({ length: n }, (_, k) => {
    const i = start + k + 1;
    return {
      id: `doi:10.1000/w${i}-${process.pid}`,
      doi: `10.1000/w${i}-${process.pid}`,
      title: `Work ${i} — “quoted” \\ é`,
      year: 2020,
      meta: { row: i, ...opts.meta },
    };
  });
  await queue.enqueue(artifacts);
  const leased = await queue.lease(`test-${process.pid}`, n);
  for (const job of leased) {
    const i = job.id;
    if (i % 7 === 0) {
      await queue.fail(job.id, job.token, {
        reason: "http_500",
        transient: false,
        detail: { resolver: "unpaywall" },
      });
    } else {
      await queue.ack(job.id, job.token, {
        state: "done",
        reason: "ok",
        resolver: "unpaywall",
        tier: 2,
        url: `https://pdfs.example/w${i}.pdf?api_key=k${i}`,
        finalUrl: `https://cdn.example/w${i}.pdf`,
        sha256: (i * 2654435761).toString(16).padStart(64, "0").slice(-64),
        bytes: 1000 + i,
        contentType: "application/pdf",
        path: `pdf/${String(i % 100).padStart(2, "0")}/w${i}.pdf`,
      });
    }
  }
  return db.query<{ n: number }, []>("SELECT count(*) AS n FROM outcomes").get()?.n ?? 0;
}
