// Status page at scale (see bench/README.md): builds a state of 5,000,000 jobs (done, failed,
// skipped, queued, in progress, with their outcomes and attempts) by bulk INSERTs generated inside
// SQLite, serves it as `docstokg serve` does, and times every API route the page uses over HTTP on
// loopback — median of N against /healthz measured in the same run — plus the cold first answer of
// the counted routes and the page's size.
//   bun bench/status.ts [--jobs 5000000] [--n 21] [--dir .bench] [--rebuild]

import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { serveStatus } from "../src/app/serve.ts";
import { openStateStores } from "../src/app/state-stores.ts";
import { defaultConfig } from "../src/config/schema.ts";
import { startStatusServer } from "../src/status/server.ts";
import { databasePath, openDatabase } from "../src/store/db.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "5000000" },
    n: { type: "string", default: "21" },
    dir: { type: "string", default: ".bench" },
    rebuild: { type: "boolean", default: false },
  },
});
const JOBS = Number(values.jobs);
const N = Number(values.n);
const TARGET_MS = 200;
const PAGE_LIMIT_BYTES = 1_000_000;

const ERROR_REASONS = ["http_404", "http_403", "not_found", "timeout", "http_500", "no_pdf", "conn_error"];
const SKIP_REASONS = ["robots_disallowed", "no_candidates", "not_oa"];
const RESOLVERS = ["unpaywall", "crossref", "europepmc", "doaj", "landing"];

/**
 * SQL for the state of job i: 60 % done, 10 % error, 5 % skipped, 0.1 % in progress (what a fleet holds
 * at once: thousands), the rest queued.
 */
const STATE = `CASE WHEN i % 100 < 60 THEN 'done' WHEN i % 100 < 70 THEN 'error' WHEN i % 100 < 75 THEN 'skipped'
  WHEN i % 1000 = 999 THEN 'in_progress' ELSE 'queued' END`;
const pick = (list: string[], expr: string) =>
  `CASE ${expr} % ${list.length} ${list.map((r, k) => `WHEN ${k} THEN '${r}'`).join(" ")} END`;

function build(path: string, now: number): void {
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  openDatabase(path).close(); // the schema, by the store's own migrations
  const db = new Database(path);
  db.run("PRAGMA journal_mode = OFF");
  db.run("PRAGMA synchronous = OFF");
  db.run("PRAGMA cache_size = -262144");
  // Indexes are built once after the rows are in (a sort each), not row by row.
  const indexes = db
    .query<{ name: string; sql: string }, []>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('jobs', 'attempts', 'outcomes')",
    )
    .all();
  for (const ix of indexes) db.run(`DROP INDEX ${ix.name}`);
  const t0 = performance.now();
  db.transaction(() => {
    db.run(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${JOBS})
       INSERT INTO jobs (id, artifact_id, artifact, state, attempts, available_at, lease_owner, lease_expires_at,
                         first_attempt_at, last_reason, created_at, updated_at)
       SELECT i, 'doi:10.5555/bench.' || i,
              '{"doi":"10.5555/bench.' || i || '","title":"Benchmark work ' || i || '"}',
              ${STATE}, CASE WHEN i % 100 < 75 THEN 1 + i % 3 ELSE 0 END,
              ${now} - (i % 1000) * 1000 + CASE WHEN i % 7 = 0 THEN 3600000 ELSE 0 END,
              CASE WHEN i % 1000 = 999 THEN 'bench-runner' END,
              CASE WHEN i % 1000 = 999 THEN ${now} + 120000 END,
              CASE WHEN i % 100 < 75 THEN ${now} - 7200000 END,
              CASE WHEN i % 100 < 60 THEN 'ok' WHEN i % 100 < 70 THEN ${pick(ERROR_REASONS, "(i / 100)")}
                   WHEN i % 100 < 75 THEN ${pick(SKIP_REASONS, "(i / 100)")} END,
              ${now} - 86400000, ${now} - (${JOBS} - i) % 3600000
       FROM n`,
    );
    db.run(
      `INSERT INTO outcomes (seq, job_id, artifact_id, state, reason, resolver, tier, url, sha256, bytes, path,
                             first_attempt_at, finished_at, attempts)
       SELECT id, id, artifact_id, state, last_reason,
              CASE WHEN state = 'done' THEN ${pick(RESOLVERS, "id")} END,
              CASE WHEN state = 'done' THEN 1 + id % 4 END,
              'https://pdfs.example/' || id || '.pdf',
              CASE WHEN state = 'done' THEN printf('%064x', id) END,
              CASE WHEN state = 'done' THEN 100000 + id % 900000 END,
              CASE WHEN state = 'done' THEN 'ab/' || id || '.pdf' END,
              first_attempt_at, ${now} - (${JOBS} - id) % 3600000, attempts
       FROM jobs WHERE state IN ('done', 'error', 'skipped') ORDER BY id`,
    );
    db.run(
      `INSERT INTO attempts (job_id, resolver, tier, url, host, http_status, reason, bytes, elapsed_ms, rate_wait_ms, at, role)
       SELECT id, ${pick(RESOLVERS, "id")}, 1 + id % 4, 'https://pdfs.example/' || id || '.pdf',
              'host' || (id % 2000) || '.example',
              CASE WHEN state = 'done' THEN 200 WHEN last_reason LIKE 'http_%' THEN CAST(substr(last_reason, 6) AS INTEGER) END,
              last_reason, CASE WHEN state = 'done' THEN 100000 + id % 900000 END, 50 + id % 3000, id % 200,
              ${now} - (${JOBS} - id) % 3600000, 'artifact'
       FROM jobs WHERE state IN ('done', 'error', 'skipped') ORDER BY id`,
    );
    db.run(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999)
       INSERT INTO host_state (host, count_429, failures, breaker, breaker_reason, open_until, cooldown_until, updated_at)
       SELECT 'host' || i || '.example', i % 17, i % 5, CASE WHEN i % 97 = 0 THEN 'open' ELSE 'closed' END,
              CASE WHEN i % 97 = 0 THEN 'timeout' END, CASE WHEN i % 97 = 0 THEN ${now} + 60000 ELSE 0 END,
              CASE WHEN i % 31 = 0 THEN ${now} + 30000 ELSE 0 END, ${now} FROM n`,
    );
    for (let r = 0; r < 8; r++) {
      db.query(
        "INSERT INTO runners (id, host, boot_id, pid, proc_start, version, started_at, heartbeat_at, in_flight) VALUES (?, ?, 'boot', ?, NULL, '0.1.0', ?, ?, ?)",
      ).run(`runner-${r}`, `m${r % 3}`, 1000 + r, now - 3_600_000, now - (r === 7 ? 600_000 : 5000), 16);
    }
  })();
  const inserted = performance.now();
  for (const ix of indexes) db.run(ix.sql);
  db.run("ANALYZE");
  db.run("PRAGMA journal_mode = WAL");
  db.close();
  const done = performance.now();
  console.log(
    `built ${JOBS.toLocaleString("en-US")} jobs in ${((done - t0) / 1000).toFixed(1)} s (rows ${((inserted - t0) / 1000).toFixed(1)} s, indexes ${((done - inserted) / 1000).toFixed(1)} s), ${(statSync(path).size / 1e9).toFixed(2)} GB`,
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function timed(url: string): Promise<{ ms: number; bytes: number; status: number }> {
  const t = performance.now();
  const res = await fetch(url);
  const body = await res.arrayBuffer();
  return { ms: performance.now() - t, bytes: body.byteLength, status: res.status };
}

const dir = values.dir;
mkdirSync(dir, { recursive: true });
const stateDir = join(dir, `status-${JOBS}`);
const path = databasePath(stateDir);
mkdirSync(stateDir, { recursive: true });
const now = Date.now();
if (values.rebuild || !existsSync(path)) build(path, now);
else console.log(`reusing ${path} (--rebuild to build it again)`);

const config = defaultConfig();
config.state_dir = stateDir;
const state = await openStateStores(config, { readOnly: true });
const status = await serveStatus(config, state);
const server = startStatusServer("127.0.0.1:0", status.app, {});
const base = server.url.href.replace(/\/$/, "");

try {
  // Cold: the first answer of the counted routes computes what later answers read from memory.
  const cold: [string, number][] = [];
  for (const route of ["/api/stats", "/api/summary"]) cold.push([route, (await timed(base + route)).ms]);
  const mid = Math.floor(JOBS / 2);
  const routes = [
    "/healthz",
    "/api/stats",
    "/api/summary",
    "/api/throughput",
    "/api/runners",
    "/api/hosts?limit=50",
    "/api/jobs?limit=50",
    "/api/jobs?state=error&limit=50",
    "/api/jobs?state=error&reason=timeout&limit=50",
    `/api/jobs?state=error&reason=timeout&limit=50&after=${mid}`,
    "/api/jobs?state=skipped&limit=50",
    "/api/jobs?state=queued&limit=50",
    "/api/jobs?state=done&limit=50",
    `/api/jobs?state=done&limit=50&after=${mid}`,
    "/api/jobs?state=in_progress&limit=50",
    `/api/jobs/${mid}`,
    `/api/search?q=${encodeURIComponent(`https://doi.org/10.5555/bench.${mid}`)}`,
    "/",
  ];
  const results = new Map<string, { ms: number[]; bytes: number; status: number }>();
  for (const r of routes) results.set(r, { ms: [], bytes: 0, status: 0 });
  // Interleaved rounds: a neighbour's burst spreads over every route instead of hitting one.
  for (let round = 0; round < N + 1; round++) {
    for (const r of routes) {
      const t = await timed(base + r);
      const acc = results.get(r) as { ms: number[]; bytes: number; status: number };
      if (round > 0) acc.ms.push(t.ms); // round 0 warms up
      acc.bytes = t.bytes;
      acc.status = t.status;
    }
  }
  const baseline = median(results.get("/healthz")?.ms ?? [1]);
  const summary = (await (await fetch(`${base}/api/summary`)).json()) as { took_ms: number };
  console.log(
    `\n${JOBS.toLocaleString("en-US")} jobs, median of ${N} over HTTP on loopback (target < ${TARGET_MS} ms)`,
  );
  console.log(
    "route".padEnd(62),
    "median ms".padStart(10),
    "max ms".padStart(8),
    "× healthz".padStart(10),
    "bytes".padStart(9),
  );
  let worst = 0;
  for (const [r, acc] of results) {
    const m = median(acc.ms);
    worst = Math.max(worst, r === "/healthz" ? 0 : m);
    const flag = acc.status !== 200 ? `  HTTP ${acc.status}` : m >= TARGET_MS ? "  OVER TARGET" : "";
    console.log(
      r.slice(0, 62).padEnd(62),
      m.toFixed(2).padStart(10),
      Math.max(...acc.ms)
        .toFixed(1)
        .padStart(8),
      (m / baseline).toFixed(1).padStart(10),
      acc.bytes.toLocaleString("en-US").padStart(9),
      flag,
    );
  }
  console.log("\ncold first answers (computed, then served from memory and recomputed in the background):");
  for (const [r, ms] of cold) console.log(`  ${r.padEnd(16)} ${ms.toFixed(0)} ms`);
  console.log(
    `  summary recomputation (failures + yield) took ${summary.took_ms} ms, at most every ${Math.max(15, (10 * summary.took_ms) / 1000).toFixed(0)} s`,
  );
  const page = results.get("/")?.bytes ?? 0;
  console.log(
    `\npage ${page.toLocaleString("en-US")} bytes (limit ${PAGE_LIMIT_BYTES.toLocaleString("en-US")})`,
  );
  console.log(
    `worst median ${worst.toFixed(1)} ms: ${worst < TARGET_MS && page < PAGE_LIMIT_BYTES ? "within target" : "TARGET MISSED"}`,
  );
} finally {
  await server.stop();
  status.close();
  await state.close();
}
