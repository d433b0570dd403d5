// The politeness state on SQLite (tables of migration 2), one SQL operation per method, so every
// process sharing the database file shares one rate budget, one breaker and one set of host slots per
// host, and a restart resumes them. Writes are single statements or IMMEDIATE transactions.
import type { Database, Statement } from "bun:sqlite";
import { gcraNextAt } from "../gcra.ts";
import {
  emptyHostRow,
  HOST_COLUMNS,
  type HostRow,
  type HostStateStore,
  type RateDecision,
  sameHostRow,
} from "../host-state.ts";

type Bind = string | number | null;

export class SqliteHostStore implements HostStateStore {
  private readonly selectHost: Statement<HostRow, [string]>;
  private readonly writeHost: Statement<unknown, Bind[]>;
  private readonly reserve: Statement<{ tat: number }, Bind[]>;
  private readonly selectTat: Statement<{ tat: number }, [string, string]>;
  private readonly countLive: Statement<{ n: number }, [string, number]>;
  private readonly countAhead: Statement<{ n: number }, [string, number]>;
  private readonly insertSlot: Statement<unknown, Bind[]>;
  private readonly insertWaiter: Statement<unknown, Bind[]>;
  private readonly promote: Statement<unknown, Bind[]>;
  private readonly refresh: Statement<unknown, Bind[]>;
  private readonly countWaiters: Statement<{ n: number }, [string, number]>;
  private readonly deleteSlot: Statement<unknown, [string, string]>;
  private readonly renew: Statement<unknown, [number, string, number]>;
  private readonly renewTrials: Statement<unknown, [number, string, number]>;
  private readonly sweep: Statement<unknown, [number]>;

  constructor(private readonly db: Database) {
    this.selectHost = db.prepare(`SELECT ${HOST_COLUMNS.join(", ")} FROM host_state WHERE host = ?`);
    this.writeHost = db.prepare(
      `INSERT OR REPLACE INTO host_state (${HOST_COLUMNS.join(", ")}) VALUES (${HOST_COLUMNS.map(() => "?").join(", ")})`,
    );
    // gcraReserve (gcra.ts) in one statement: the wait is max(tat - tolerance, now) - now; when it is
    // within the caller's limit the row moves to max(tat, now) + interval, else nothing changes and
    // nothing is returned. A new key is always allowed at once.
    this.reserve = db.prepare(
      `INSERT INTO host_rate (host, role, tat) VALUES (?1, ?2, ?3 + ?4)
       ON CONFLICT (host, role) DO UPDATE SET tat = max(tat, ?3) + ?4
       WHERE max(tat - ?5, ?3) - ?3 <= ?6
       RETURNING tat`,
    );
    this.selectTat = db.prepare("SELECT tat FROM host_rate WHERE host = ? AND role = ?");
    this.countLive = db.prepare(
      "SELECT count(*) AS n FROM host_slot WHERE host = ? AND expires_at > ? AND waiting = 0",
    );
    // Holders plus waiters: a newcomer queues behind every live waiter of another process.
    this.countAhead = db.prepare("SELECT count(*) AS n FROM host_slot WHERE host = ? AND expires_at > ?");
    // Check and insert in one statement: SQLite runs it under the write lock, so two processes cannot
    // both take the last slot.
    this.insertSlot = db.prepare(
      `INSERT INTO host_slot (host, token, owner, expires_at)
       SELECT ?1, ?2, ?3, ?4
       WHERE (SELECT count(*) FROM host_slot WHERE host = ?1 AND expires_at > ?5) < ?6`,
    );
    this.insertWaiter = db.prepare(
      "INSERT OR REPLACE INTO host_slot (host, token, owner, expires_at, waiting, since) VALUES (?, ?, ?, ?, 1, ?)",
    );
    // A waiter becomes a holder when the holders and the waiters ahead of it leave a slot free.
    this.promote = db.prepare(
      `UPDATE host_slot SET waiting = 0, expires_at = ?3
       WHERE host = ?1 AND token = ?2 AND waiting = 1
         AND (SELECT count(*) FROM host_slot s WHERE s.host = ?1 AND s.expires_at > ?4
              AND (s.waiting = 0 OR s.since < ?5 OR (s.since = ?5 AND s.token < ?2))) < ?6`,
    );
    this.countWaiters = db.prepare(
      "SELECT count(*) AS n FROM host_slot WHERE host = ? AND expires_at > ? AND waiting = 1",
    );
    this.refresh = db.prepare(
      "UPDATE host_slot SET expires_at = ? WHERE host = ? AND token = ? AND waiting = 1",
    );
    this.deleteSlot = db.prepare("DELETE FROM host_slot WHERE host = ? AND token = ?");
    this.renew = db.prepare(
      "UPDATE host_slot SET expires_at = ? WHERE owner = ? AND expires_at > ? AND waiting = 0",
    );
    this.renewTrials = db.prepare(
      "UPDATE host_state SET trial_until = ? WHERE trial_owner = ? AND breaker = 'half_open' AND trial_until > ?",
    );
    this.sweep = db.prepare("DELETE FROM host_slot WHERE expires_at <= ?");
  }

  readHost(host: string): HostRow | null {
    return this.selectHost.get(host);
  }

  /**
   * Read-modify-write of a host's row under the write lock (BEGIN IMMEDIATE), so concurrent processes
   * apply their changes one after the other. `change` returns the new row, or the same one for none.
   */
  updateHost(host: string, now: number, change: (row: HostRow) => HostRow): HostRow {
    const run = this.db.transaction(() => {
      const row = this.selectHost.get(host) ?? emptyHostRow(host);
      const next = change(row);
      if (next === row || sameHostRow(row, next)) return row;
      const stamped = { ...next, host, updated_at: now };
      this.writeHost.run(...HOST_COLUMNS.map((c) => stamped[c]));
      return stamped;
    });
    return run.immediate();
  }

  /** Reserve one request on (host, key) — see gcraReserve; one write when allowed, none when not. */
  reserveRate(
    host: string,
    key: string,
    now: number,
    intervalMs: number,
    burst: number,
    maxWaitMs: number,
  ): RateDecision {
    const tolerance = (Math.max(1, burst) - 1) * intervalMs;
    const limit = Math.min(Math.max(0, maxWaitMs), Number.MAX_SAFE_INTEGER);
    const row = this.reserve.get(host, key, now, intervalMs, tolerance, limit);
    if (row) {
      const startAt = Math.max(now, row.tat - intervalMs - tolerance);
      return { allowed: true, startAt, waitMs: startAt - now, tat: row.tat };
    }
    const tat = this.selectTat.get(host, key)?.tat ?? 0;
    const startAt = gcraNextAt(tat, now, intervalMs, burst);
    return { allowed: false, startAt, waitMs: startAt - now, tat };
  }

  /** Stored theoretical arrival times of a host's rate keys. */
  rates(host: string): Array<{ role: string; tat: number }> {
    return this.db
      .query<{ role: string; tat: number }, [string]>("SELECT role, tat FROM host_rate WHERE host = ?")
      .all(host);
  }

  /** Requests in flight at `host` across all processes (unexpired slots). */
  liveSlots(host: string, now: number): number {
    return this.countLive.get(host, now)?.n ?? 0;
  }

  /** Take one of `limit` slots of `host` if one is free and nobody waits; false otherwise. */
  takeSlot(host: string, token: string, owner: string, now: number, ttlMs: number, limit: number): boolean {
    // A read first: while the host is full, nobody takes the write lock just to learn that.
    if ((this.countAhead.get(host, now)?.n ?? 0) >= limit) return false;
    return this.insertSlot.run(host, token, owner, now + ttlMs, now, limit).changes === 1;
  }

  /** Queue for a slot of `host` in arrival order (`since`) shared by all processes. */
  enqueueWaiter(host: string, token: string, owner: string, since: number, ttlMs: number): void {
    this.insertWaiter.run(host, token, owner, since + ttlMs, since);
  }

  /** Turn a queued waiter into a holder if its turn has come. */
  promoteWaiter(
    host: string,
    token: string,
    since: number,
    now: number,
    ttlMs: number,
    limit: number,
  ): boolean {
    return this.promote.run(host, token, now + ttlMs, now, since, limit).changes === 1;
  }

  /** Requests of any process queued for a slot of `host`. */
  waiters(host: string, now: number): number {
    return this.countWaiters.get(host, now)?.n ?? 0;
  }

  /** Keep a waiter in line (a waiter that stops refreshing, a crashed one, drops out). */
  refreshWaiter(host: string, token: string, now: number, ttlMs: number): void {
    this.refresh.run(now + ttlMs, host, token);
  }

  releaseSlot(host: string, token: string): void {
    this.deleteSlot.run(host, token);
  }

  /** Extend the slots and breaker trials this process holds, and drop rows of crashed holders. */
  renewOwner(owner: string, now: number, ttlMs: number): void {
    this.db
      .transaction(() => {
        this.renew.run(now + ttlMs, owner, now);
        this.renewTrials.run(now + ttlMs, owner, now);
        this.sweep.run(now);
      })
      .immediate();
  }

  /** Drop every slot this process holds (shutdown). */
  releaseOwner(owner: string): void {
    this.db.run("DELETE FROM host_slot WHERE owner = ?", [owner]);
  }

  /** Hosts with any stored state, most recently active first (status page). */
  knownHosts(limit: number): string[] {
    return this.db
      .query<{ host: string }, [number]>(
        `SELECT host FROM (
           SELECT host, max(updated_at) AS t FROM host_state GROUP BY host
           UNION ALL SELECT host, max(tat) AS t FROM host_rate GROUP BY host
           UNION ALL SELECT host, max(expires_at) AS t FROM host_slot GROUP BY host)
         GROUP BY host ORDER BY max(t) DESC LIMIT ?`,
      )
      .all(limit)
      .map((r) => r.host);
  }
}
