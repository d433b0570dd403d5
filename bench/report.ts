// How `report` and `manifest export` scale: a state database with N done/error jobs, one outcome
// each and three attempts each (two metadata requests, one download) on 500 hosts, then the time to
// build the report and to stream every outcome as CSV, with the process's peak RSS while exporting.
// Run: bun run bench/report.ts [N=200000]
//
// Latest figures (2 cores shared with other work, load average 5–6, 2026-11-26):
//   N =  50 000: report 0.6 s;  CSV export 50 000 rows (18 MB) in 0.7 s, RSS 80 → peak 88 MB
//   N = 200 000: report 3.0 s;  CSV export 200 000 rows (73 MB) in 3.3 s, RSS 89 → peak 106 MB
//   N = 500 000: report 10.3 s; CSV export 500 000 rows (184 MB) in 7.3 s, RSS 89 → peak 96 MB
// The export's memory stays flat as rows grow tenfold (keyset pages, backpressure).
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { defaultConfig } from "../src/config/schema.ts";
import { openStateDatabase } from "../src/store/db.ts";
import { exportOutcomes } from "../src/telemetry/export.ts";
import { buildReport } from "../src/telemetry/report.ts";

const N = Number(process.argv[2] ?? 200_000);
const dir = join(tmpdir(), `docstokg-bench-report-${process.pid}`);
const db = openStateDatabase(dir);
const t0 = Date.UTC(2026, 0, 1);

const fill = performance.now();
const job = db.query(
  "INSERT INTO jobs (id, artifact_id, artifact, state, available_at, last_reason, first_attempt_at, created_at, updated_at, attempts) VALUES (?, ?, ?, ?, 0, ?, ?, 0, 0, 1)",
);
const outcome = db.query(
  "INSERT INTO outcomes (job_id, artifact_id, state, reason, resolver, tier, url, sha256, bytes, content_type, path, first_attempt_at, finished_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'application/pdf', ?, ?, ?, 1)",
);
const attempt = db.query(
  "INSERT INTO attempts (job_id, resolver, host, role, http_status, rate_wait_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
);
const resolvers = ["direct", "unpaywall", "crossref", "europepmc", "landing"];
for (let start = 0; start < N; start += 10_000) {
  db.transaction(() => {
    for (let i = start; i < Math.min(N, start + 10_000); i++) {
      const id = `doi:10.5555/bench.${i}`;
      const done = i % 5 !== 0;
      const title = `Title ${i}, with "quotes", commas\nand a line break`;
      job.run(
        i + 1,
        id,
        JSON.stringify({ id, doi: `10.5555/bench.${i}`, title }),
        done ? "done" : "error",
        done ? "ok" : "not_found",
        t0 + i,
      );
      const sha = done ? new Bun.CryptoHasher("sha256").update(String(i % 150_000)).digest("hex") : null;
      outcome.run(
        i + 1,
        id,
        done ? "done" : "error",
        done ? "ok" : "not_found",
        resolvers[i % 5] ?? null,
        (i % 4) + 1,
        `https://h${i % 500}.example/${i}.pdf`,
        sha,
        done ? 100_000 + (i % 1000) : null,
        sha ? `pdf/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.pdf` : null,
        t0 + i,
        t0 + i + 1000 + (i % 7000),
      );
      attempt.run(
        i + 1,
        "unpaywall",
        "api.unpaywall.org",
        "metadata",
        i % 97 === 0 ? 429 : 200,
        i % 300,
        t0 + i,
      );
      attempt.run(i + 1, "crossref", "api.crossref.org", "metadata", 200, i % 120, t0 + i);
      attempt.run(
        i + 1,
        resolvers[i % 5] ?? null,
        `h${i % 500}.example`,
        null,
        done ? 200 : 404,
        i % 50,
        t0 + i,
      );
    }
  })();
}
const fillMs = performance.now() - fill;

const r0 = performance.now();
const report = buildReport(db, { objectives: defaultConfig().telemetry.objectives, now: Date.now });
const reportMs = performance.now() - r0;

let peak = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 20);
const rssBefore = process.memoryUsage().rss;
let bytes = 0;
const sink = new Writable({
  write(chunk: Buffer, _e, done) {
    bytes += chunk.length;
    done();
  },
});
const e0 = performance.now();
const rows = await exportOutcomes(db, sink, "csv");
const exportMs = performance.now() - e0;
clearInterval(sampler);
db.close();
rmSync(dir, { recursive: true, force: true });

const mb = (x: number) => `${(x / 1e6).toFixed(0)} MB`;
console.log(`jobs ${N}, attempts ${3 * N} (filled in ${(fillMs / 1000).toFixed(1)} s)`);
console.log(
  `report: ${reportMs.toFixed(0)} ms (${report.hosts.length} hosts, metadata wait p95 ${report.rate_wait_ms.metadata.p95} ms, time to first PDF p95 ${report.time_to_first_pdf_ms.p95} ms)`,
);
console.log(
  `export csv: ${rows} rows, ${mb(bytes)} in ${exportMs.toFixed(0)} ms (${Math.round(rows / (exportMs / 1000))} rows/s); RSS ${mb(rssBefore)} before, peak ${mb(peak)} while exporting`,
);
