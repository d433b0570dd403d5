// A child process for crash tests: imports a file, or runs a lease/ack loop, against a queue
// database, printing one line per committed step so the parent can kill -9 it mid-flight.
//   bun queue-child.ts import <db> <input>
//   bun queue-child.ts work <db> <owner>
//   bun queue-child.ts batch <db> <owner>   (lease 256, ack all through the CommitBatcher)

import { CommitBatcher } from "../../src/store/commit-batcher.ts";
import { openDatabase } from "../../src/store/db.ts";
import { importStream } from "../../src/store/import.ts";
import { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";

const [mode, dbPath, arg] = process.argv.slice(2);
if (!dbPath || !arg) throw new Error("usage: queue-child.ts import|work|batch <db> <input|owner>");
const db = openDatabase(dbPath);
const queue = new SqliteJobQueue(
  db,
  { leaseTtlMs: 60_000, maxAttempts: 3, backoff: { baseMs: 0, capMs: 0 } },
  { now: Date.now },
);

if (mode === "import") {
  await importStream(queue, Bun.file(arg).stream(), {
    format: "auto",
    rejectsPath: `${arg}.rejects`,
    batchSize: 500,
    onProgress: (s) => console.log(`committed ${s.added}`),
  });
  console.log("finished");
} else if (mode === "batch") {
  // Group commit: every job of a lease finishes "at once", each acked by its own call and token.
  let committed = 0;
  const batcher = new CommitBatcher(
    {
      // Printed after each transaction commits, while the next ones of the same lease are on their way.
      async commitMany(commits) {
        const results = await queue.commitMany(commits);
        committed += results.filter((r) => r.ok && r.value === true).length;
        console.log(`committed ${committed}`);
        return results;
      },
    },
    { maxBatch: 64 },
  );
  let acked = 0;
  for (;;) {
    // Four transactions' worth per lease: a kill after one of them lands among the others.
    const jobs = await queue.lease(arg, 256);
    if (jobs.length === 0) break;
    const results = await Promise.all(
      jobs.map((job) =>
        batcher.ack(job.id, job.token, {
          state: "done",
          reason: "ok",
          sha256: `${job.id}`.padStart(64, "0"),
          attempts: [{ reason: "ok", url: `https://example.org/${job.id}.pdf` }],
        }),
      ),
    );
    acked += results.filter(Boolean).length;
    // Printed only after the acks' transaction committed: these are durable.
    console.log(`acked ${acked}`);
  }
  await batcher.close();
  console.log(`finished ${acked}`);
} else {
  let n = 0;
  let refused = 0;
  for (;;) {
    const jobs = await queue.lease(arg, 8);
    if (jobs.length === 0) break;
    for (const job of jobs) {
      n++;
      // A mix of every transition the runner makes; a refused call would mean someone else held the job.
      let ok: unknown;
      if (n % 5 === 0) ok = await queue.fail(job.id, job.token, { reason: "timeout", transient: true });
      else if (n % 7 === 0) ok = await queue.release(job.id, job.token);
      else
        ok = await queue.ack(job.id, job.token, {
          state: "done",
          reason: "ok",
          attempts: [{ reason: "ok" }],
        });
      if (ok === false) refused++;
    }
    console.log(`processed ${n}`);
  }
  console.log(`finished ${n} refused ${refused}`);
}
db.close();
