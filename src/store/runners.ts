// The runner registry (schema version 7): one row per live `queue run` process — which machine and
// boot it runs on, its pid and process start time, its version, heartbeat and jobs in flight. A
// runner that starts finds the rows of dead runners of its own machine and boot and takes their
// leases and host slots back at once, instead of waiting for them to expire.
import type { Database } from "bun:sqlite";
import type { Maybe } from "./maybe.ts";

export const RUNNERS_SCHEMA_V7 = `
CREATE TABLE runners (
  id           TEXT PRIMARY KEY,      -- also the owner of its job leases and host slots
  host         TEXT NOT NULL,         -- the machine's host name
  boot_id      TEXT,                  -- the machine's boot (NULL: unknown, never reclaimed early)
  pid          INTEGER NOT NULL,
  proc_start   TEXT,                  -- the process's start time as the kernel counts it
  version      TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  in_flight    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`;

export function createRunnersSchema(db: Database): void {
  db.run(RUNNERS_SCHEMA_V7);
}

export interface RunnerRow {
  id: string;
  host: string;
  boot_id: string | null;
  pid: number;
  proc_start: string | null;
  version: string;
  started_at: number;
  heartbeat_at: number;
  in_flight: number;
}

export function registerRunner(db: Database, r: RunnerRow): void {
  db.query(
    `INSERT OR REPLACE INTO runners (id, host, boot_id, pid, proc_start, version, started_at, heartbeat_at, in_flight)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.id, r.host, r.boot_id, r.pid, r.proc_start, r.version, r.started_at, r.heartbeat_at, r.in_flight);
}

export function heartbeatRunner(db: Database, id: string, now: number, inFlight: number): void {
  db.query("UPDATE runners SET heartbeat_at = ?, in_flight = ? WHERE id = ?").run(now, inFlight, id);
}

export function removeRunner(db: Database, id: string): void {
  db.query("DELETE FROM runners WHERE id = ?").run(id);
}

export function listRunners(db: Database): RunnerRow[] {
  return db.query<RunnerRow, []>("SELECT * FROM runners ORDER BY started_at, id").all();
}

/** Other runners registered on this machine during this boot: the ones whose death can be proven. */
export function runnersOfBoot(db: Database, host: string, bootId: string, self: string): RunnerRow[] {
  return db
    .query<RunnerRow, [string, string, string]>(
      "SELECT * FROM runners WHERE host = ? AND boot_id = ? AND id <> ? ORDER BY started_at",
    )
    .all(host, bootId, self);
}

/**
 * Take back what a dead runner held, in one transaction: its leases become due now (the ordinary
 * lease path takes them up, counting the interrupted try as an expired lease does), its host slots
 * and breaker trials are freed, and its registry row goes. Answers the number of jobs reclaimed.
 */
export function reclaimRunner(db: Database, id: string, now: number): number {
  return db
    .transaction(() => {
      const jobs = db
        .query(
          `UPDATE jobs SET lease_expires_at = ?1, updated_at = ?1
         WHERE state = 'in_progress' AND lease_owner = ?2 AND lease_expires_at > ?1`,
        )
        .run(now, id).changes;
      db.query("DELETE FROM host_slot WHERE owner = ?").run(id);
      db.query("UPDATE host_state SET trial_until = 0 WHERE trial_owner = ? AND breaker = 'half_open'").run(
        id,
      );
      db.query("DELETE FROM runners WHERE id = ?").run(id);
      return jobs;
    })
    .immediate();
}

/** The registry as the runner uses it (SQLite: `sqliteRunnerRegistry`; PostgreSQL: postgres/runners.ts). */
export interface RunnerRegistry {
  register(r: RunnerRow): Maybe<void>;
  heartbeat(id: string, now: number, inFlight: number): Maybe<void>;
  remove(id: string): Maybe<void>;
  list(): Maybe<RunnerRow[]>;
  ofBoot(host: string, bootId: string, self: string): Maybe<RunnerRow[]>;
  /** Take back a dead runner's leases, host slots and trials, and drop its row; answers the jobs. */
  reclaim(id: string, now: number): Maybe<number>;
}

export function sqliteRunnerRegistry(db: Database): RunnerRegistry {
  return {
    register: (r) => registerRunner(db, r),
    heartbeat: (id, now, inFlight) => heartbeatRunner(db, id, now, inFlight),
    remove: (id) => removeRunner(db, id),
    list: () => listRunners(db),
    ofBoot: (host, bootId, self) => runnersOfBoot(db, host, bootId, self),
    reclaim: (id, now) => reclaimRunner(db, id, now),
  };
}
