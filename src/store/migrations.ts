// Ordered schema migrations. Each entry moves the database from version-1 to version; entries are
// never edited once released — a change is a new entry at the end.
import type { Database } from "bun:sqlite";
import { createPullsSchema } from "./pulls.ts";
import { createQueueSchema } from "./queue-schema.ts";
import { createRunnersSchema } from "./runners.ts";
import { boundHttpCache } from "./sqlite/http-cache.ts";
import { addHeldBackWait, createReportSchema } from "./sqlite/report-schema.ts";
import { createRobotsSchema } from "./sqlite/robots.ts";
import { createStoredUrlsSchema } from "./stored-urls.ts";
import { createUsageSchema } from "./usage.ts";

export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

export const MIGRATIONS: Migration[] = [
  // 1: queue (jobs, attempts, outcomes, settings, manifest outbox) — src/store/queue-schema.ts
  { version: 1, name: "queue", up: createQueueSchema },
  // 2: politeness (host rate budgets, cool-downs, breakers, host slots) — src/store/sqlite/host-state.ts
  // 3: http_cache (metadata HTTP cache) — below; its rows in src/store/sqlite/http-cache.ts
  // 4: report (attempt roles, per-host index, breaker openings) — src/store/sqlite/report-schema.ts
  // 5: stored_urls (canonical URL -> stored file, for reuse and conditional requests) — src/store/stored-urls.ts
  // 6: robots_cache (robots.txt verdicts shared by the processes of one database) — src/store/sqlite/robots.ts
  // 7: runners (the runner registry, crash reclaim) — src/store/runners.ts
  // 8: breaker_reason (why a host's breaker last opened) — below
  // 9: http_cache_bounds (prune times, total size kept by triggers) — src/store/sqlite/http-cache.ts
  // 10: attempt_held_back (wait in host-imposed cool-downs, for the report's objective) — src/store/sqlite/report-schema.ts
  // 11: outcome_provenance (licence, version, host type, OA status of the obtained file) — below
  // 12: openalex_pulls (cursor, counts and state of each OpenAlex pull) — src/store/pulls.ts
  // 13: source_usage (requests and USD per source and UTC day, for quotas) — src/store/usage.ts
  {
    version: 2,
    name: "politeness",
    up(db) {
      // Times are epoch milliseconds. host_rate: one GCRA theoretical arrival time per (host, role),
      // role "robots" being the shared budget of landing+artifact under a Crawl-delay.
      db.run(`CREATE TABLE host_rate (
        host TEXT NOT NULL,
        role TEXT NOT NULL,
        tat REAL NOT NULL,
        PRIMARY KEY (host, role)
      ) WITHOUT ROWID`);
      // host_state: cool-down, circuit breaker, crawl-delay and announced limits of a host.
      db.run(`CREATE TABLE host_state (
        host TEXT PRIMARY KEY,
        cooldown_until INTEGER NOT NULL DEFAULT 0,
        backoff_ms INTEGER NOT NULL DEFAULT 0,
        breaker TEXT NOT NULL DEFAULT 'closed' CHECK (breaker IN ('closed', 'open', 'half_open')),
        failures INTEGER NOT NULL DEFAULT 0,
        open_until INTEGER NOT NULL DEFAULT 0,
        trial_until INTEGER NOT NULL DEFAULT 0,
        trial_owner TEXT,
        count_429 INTEGER NOT NULL DEFAULT 0,
        min_interval_ms REAL NOT NULL DEFAULT 0,
        announced_interval_ms REAL NOT NULL DEFAULT 0,
        announced_concurrency INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID`);
      // host_slot: requests in flight per host across processes (waiting = 0), and requests waiting
      // for one in arrival order (waiting = 1, since); a crashed holder's or waiter's row expires. It
      // holds live rows only (tens), so lookups by owner scan it rather than pay for a second index.
      db.run(`CREATE TABLE host_slot (
        host TEXT NOT NULL,
        token TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        waiting INTEGER NOT NULL DEFAULT 0,
        since REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (host, token)
      ) WITHOUT ROWID`);
    },
  },
  {
    // The metadata HTTP cache (rules in src/net/cache.ts, rows in src/store/sqlite/http-cache.ts);
    // key = SHA-256 of the URL, so no secret rests here.
    version: 3,
    name: "http_cache",
    up(db) {
      db.run(`CREATE TABLE http_cache (
        key TEXT PRIMARY KEY,
        status INTEGER NOT NULL,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        stored_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        etag TEXT,
        last_modified TEXT
      ) WITHOUT ROWID`);
    },
  },
  { version: 4, name: "report", up: createReportSchema },
  { version: 5, name: "stored_urls", up: createStoredUrlsSchema },
  { version: 6, name: "robots_cache", up: createRobotsSchema },
  { version: 7, name: "runners", up: createRunnersSchema },
  {
    // The failure that last opened a host's breaker (`timeout`, `conn_error`, `http_502`, …), for the
    // report and /api/hosts.
    version: 8,
    name: "breaker_reason",
    up(db) {
      db.run("ALTER TABLE host_state ADD COLUMN breaker_reason TEXT");
    },
  },
  { version: 9, name: "http_cache_bounds", up: boundHttpCache },
  { version: 10, name: "attempt_held_back", up: addHeldBackWait },
  {
    // What a source said about the file an outcome obtained (SPEC 16); null for older outcomes and
    // whenever no source said so.
    version: 11,
    name: "outcome_provenance",
    up(db) {
      for (const column of ["license", "license_url", "version", "host_type", "oa_status"])
        db.run(`ALTER TABLE outcomes ADD COLUMN ${column} TEXT`);
    },
  },
  { version: 12, name: "openalex_pulls", up: createPullsSchema },
  { version: 13, name: "source_usage", up: createUsageSchema },
];
