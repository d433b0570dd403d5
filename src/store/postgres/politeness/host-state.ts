// The politeness state on PostgreSQL (migration 2), one statement per operation. Instants several
// servers compare — rate reservations, slot and waiter expiry, a waiter's place in line — come from
// the database clock (docstokg_now_ms); callers pass durations and get waits back, placed on their
// own clock by the estimated offset between the two (clock-offset.ts). Host rows keep the caller's
// times (only the process that reads them compares).
import type { SQL } from "bun";
import { gcraNextAt } from "../../gcra.ts";
import {
  emptyHostRow,
  HOST_COLUMNS,
  type HostRow,
  type HostStateStore,
  type RateDecision,
  sameHostRow,
} from "../../host-state.ts";
import { ClockOffset } from "../clock-offset.ts";
import { type ConnectionHealth, connectionHealth } from "../health.ts";
import { num } from "../jobs/rows.ts";

type Raw = Record<string, unknown>;

function toHostRow(r: Raw): HostRow {
  return {
    host: String(r.host),
    cooldown_until: num(r.cooldown_until),
    backoff_ms: num(r.backoff_ms),
    breaker: r.breaker as HostRow["breaker"],
    failures: num(r.failures),
    open_until: num(r.open_until),
    trial_until: num(r.trial_until),
    trial_owner: (r.trial_owner as string | null) ?? null,
    count_429: num(r.count_429),
    breaker_reason: (r.breaker_reason as string | null) ?? null,
    min_interval_ms: num(r.min_interval_ms),
    announced_interval_ms: num(r.announced_interval_ms),
    announced_concurrency: num(r.announced_concurrency),
    updated_at: num(r.updated_at),
  };
}

export interface PostgresHostStoreOptions {
  /** Test-only replacement of the database clock (epoch ms). */
  clock?: () => number;
}

/**
 * Every call survives a dropped connection (health.ts retries it): reads, upserts and deletes repeat
 * harmlessly; a slot taken or promoted by a try whose COMMIT went unanswered is recognised by its
 * token on the retry; a repeated rate reservation or host update errs on the polite side (one more
 * interval reserved, one more failure counted).
 */
export class PostgresHostStore implements HostStateStore {
  private readonly health: ConnectionHealth;
  /** The database clock against this process's, from the reservations' readings of it. */
  private readonly offset = new ClockOffset();
  constructor(
    private readonly sql: SQL,
    private readonly o: PostgresHostStoreOptions = {},
  ) {
    this.health = connectionHealth(sql);
  }

  private retrying<R>(
    op: () => Promise<R>,
    confirm?: { isLost: (r: R) => boolean; confirm: (r: R) => Promise<R> },
  ) {
    return this.health.retrying(op, confirm);
  }

  /** Whether the slot `token` is held (not waiting): a retried take or promotion that did commit. */
  private slotHeld(
    host: string,
    token: string,
  ): { isLost: (r: boolean) => boolean; confirm: () => Promise<boolean> } {
    return {
      isLost: (r) => !r,
      confirm: async () => {
        const rows = await this.sql`
          SELECT 1 FROM host_slot WHERE host = ${host} AND token = ${token} AND NOT waiting
            AND expires_at > docstokg_now_ms(${this.at}::bigint)`;
        return rows.length === 1;
      },
    };
  }

  /** This process's clock: the override when the database clock is replaced (tests), else the wall clock. */
  private localNow(): number {
    return this.o.clock ? this.o.clock() : Date.now();
  }

  /** The clock override for docstokg_now_ms: null in production. */
  private get at(): number | null {
    return this.o.clock ? this.o.clock() : null;
  }

  async readHost(host: string): Promise<HostRow | null> {
    return await this.retrying(async () => {
      const [r] = await this.sql<Raw[]>`SELECT * FROM host_state WHERE host = ${host}`;
      return r ? toHostRow(r) : null;
    });
  }

  /**
   * The row locked (created first when missing) for the transaction, so writers on every server
   * apply their changes one after the other; unchanged rows are not written.
   */
  async updateHost(host: string, now: number, change: (row: HostRow) => HostRow): Promise<HostRow> {
    return await this.retrying(async () => {
      return await this.sql.begin(async (tx) => {
        await tx`INSERT INTO host_state (host) VALUES (${host}) ON CONFLICT (host) DO NOTHING`;
        const [locked] = await tx<Raw[]>`SELECT * FROM host_state WHERE host = ${host} FOR UPDATE`;
        const row = locked ? toHostRow(locked) : emptyHostRow(host);
        const next = change(row);
        if (next === row || sameHostRow(row, next)) return row;
        const stamped: HostRow = { ...next, host, updated_at: now };
        const values: Record<string, unknown> = {};
        for (const c of HOST_COLUMNS) if (c !== "host") values[c] = stamped[c];
        await tx`UPDATE host_state SET ${tx(values)} WHERE host = ${host}`;
        return stamped;
      });
    });
  }

  /**
   * gcraReserve as ONE statement on the database clock: the row moves to max(tat, now) + interval
   * when the wait max(tat - tolerance, now) - now is within the caller's limit; the statement also
   * answers the clock and the tat it saw, so a refusal says when to come back without a second read.
   */
  async reserveRate(
    host: string,
    key: string,
    now: number,
    intervalMs: number,
    burst: number,
    maxWaitMs: number,
  ): Promise<RateDecision> {
    return await this.retrying(async () => {
      const tolerance = (Math.max(1, burst) - 1) * intervalMs;
      const limit = Math.min(Math.max(0, maxWaitMs), Number.MAX_SAFE_INTEGER);
      const sentAt = this.localNow();
      const [r] = await this.sql<{ now: string; reserved: number | null; seen: number | null }[]>`
        WITH clock AS (SELECT docstokg_now_ms(${this.at}::bigint)::float8 AS now),
        reserved AS (
          INSERT INTO host_rate AS r (host, role, tat)
          SELECT ${host}, ${key}, clock.now + ${intervalMs}::float8 FROM clock
          ON CONFLICT (host, role) DO UPDATE SET tat = greatest(r.tat, (SELECT now FROM clock)) + ${intervalMs}::float8
          WHERE greatest(r.tat - ${tolerance}::float8, (SELECT now FROM clock)) - (SELECT now FROM clock) <= ${limit}::float8
          RETURNING r.tat)
        SELECT (SELECT now FROM clock) AS now, (SELECT tat FROM reserved) AS reserved,
               (SELECT tat FROM host_rate WHERE host = ${host} AND role = ${key}) AS seen`;
      const dbNow = num(r?.now);
      this.offset.sample(dbNow, sentAt, this.localNow());
      // The start is the database's instant placed on this clock, not the caller's now plus the wait:
      // the statement's own trip (a connection queue, a busy server) must not move it earlier.
      const at = (dbStart: number) => {
        const startAt = Math.max(now, this.offset.toLocal(dbStart));
        return { startAt, waitMs: startAt - now };
      };
      if (r?.reserved != null) {
        const tat = num(r.reserved);
        return { allowed: true, ...at(Math.max(dbNow, tat - intervalMs - tolerance)), tat };
      }
      const tat = num(r?.seen ?? 0);
      return { allowed: false, ...at(gcraNextAt(tat, dbNow, intervalMs, burst)), tat };
    });
  }

  async rates(host: string): Promise<Array<{ role: string; tat: number }>> {
    return await this.retrying(async () => {
      const rows = await this.sql<{ role: string; tat: number }[]>`
        SELECT role, tat FROM host_rate WHERE host = ${host}`;
      return rows.map((r) => ({ role: r.role, tat: num(r.tat) }));
    });
  }

  async liveSlots(host: string, _now: number): Promise<number> {
    return await this.retrying(async () => {
      const [r] = await this.sql<{ n: string }[]>`
        SELECT count(*) AS n FROM host_slot
        WHERE host = ${host} AND expires_at > docstokg_now_ms(${this.at}::bigint) AND NOT waiting`;
      return num(r?.n ?? 0);
    });
  }

  /** A slot when fewer than `limit` live ones exist; the host's lock orders the takers. */
  async takeSlot(
    host: string,
    token: string,
    owner: string,
    _now: number,
    ttlMs: number,
    limit: number,
  ): Promise<boolean> {
    return await this.underHostLock(
      host,
      token,
      (tx) => tx`
          INSERT INTO host_slot (host, token, owner, expires_at)
          SELECT ${host}, ${token}, ${owner}, n.now + ${ttlMs}::bigint
          FROM (SELECT docstokg_now_ms(${this.at}::bigint) AS now) n
          WHERE (SELECT count(*) FROM host_slot WHERE host = ${host} AND expires_at > n.now) < ${limit}
          ON CONFLICT (host, token) DO NOTHING
          RETURNING token`,
    );
  }

  /** `since` is the database clock's: the line is in the order the database saw the arrivals. */
  async enqueueWaiter(
    host: string,
    token: string,
    owner: string,
    _since: number,
    ttlMs: number,
  ): Promise<void> {
    return await this.retrying(async () => {
      await this.sql`
        INSERT INTO host_slot (host, token, owner, expires_at, waiting, since)
        SELECT ${host}, ${token}, ${owner}, n.now + ${ttlMs}::bigint, true, n.now
        FROM (SELECT docstokg_now_ms(${this.at}::bigint) AS now) n
        ON CONFLICT (host, token) DO UPDATE SET expires_at = excluded.expires_at, waiting = true,
          since = excluded.since`;
    });
  }

  async promoteWaiter(
    host: string,
    token: string,
    _since: number,
    _now: number,
    ttlMs: number,
    limit: number,
  ): Promise<boolean> {
    return await this.underHostLock(
      host,
      token,
      (tx) => tx`
          UPDATE host_slot w SET waiting = false, expires_at = n.now + ${ttlMs}::bigint
          FROM (SELECT docstokg_now_ms(${this.at}::bigint) AS now) n
          WHERE w.host = ${host} AND w.token = ${token} AND w.waiting
            AND (SELECT count(*) FROM host_slot s WHERE s.host = ${host} AND s.expires_at > n.now
                 AND (NOT s.waiting OR s.since < w.since OR (s.since = w.since AND s.token < w.token))) < ${limit}
          RETURNING w.token`,
    );
  }

  /**
   * One change of a host's slots under the host's advisory lock (a count-guarded write is not atomic
   * under READ COMMITTED): true when `statement` returned its row. Retried across a dropped
   * connection; a retry finds the slot already held by its token when the first try committed.
   */
  private async underHostLock(
    host: string,
    token: string,
    statement: (tx: SQL) => Promise<unknown[]>,
  ): Promise<boolean> {
    return await this.retrying(
      () =>
        this.sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(hashtext('docstokg.host_slot'), hashtext(${host}))`;
          return (await statement(tx)).length === 1;
        }),
      this.slotHeld(host, token),
    );
  }

  async waiters(host: string, _now: number): Promise<number> {
    return await this.retrying(async () => {
      const [r] = await this.sql<{ n: string }[]>`
        SELECT count(*) AS n FROM host_slot
        WHERE host = ${host} AND expires_at > docstokg_now_ms(${this.at}::bigint) AND waiting`;
      return num(r?.n ?? 0);
    });
  }

  async refreshWaiter(host: string, token: string, _now: number, ttlMs: number): Promise<void> {
    return await this.retrying(async () => {
      await this.sql`
        UPDATE host_slot SET expires_at = docstokg_now_ms(${this.at}::bigint) + ${ttlMs}::bigint
        WHERE host = ${host} AND token = ${token} AND waiting`;
    });
  }

  async releaseSlot(host: string, token: string): Promise<void> {
    return await this.retrying(async () => {
      await this.sql`DELETE FROM host_slot WHERE host = ${host} AND token = ${token}`;
    });
  }

  /** One statement per table; each is atomic on its own and none depends on another. */
  async renewOwner(owner: string, now: number, ttlMs: number): Promise<void> {
    return await this.retrying(async () => {
      await this.sql`
        UPDATE host_slot SET expires_at = docstokg_now_ms(${this.at}::bigint) + ${ttlMs}::bigint
        WHERE owner = ${owner} AND expires_at > docstokg_now_ms(${this.at}::bigint) AND NOT waiting`;
      await this.sql`
        UPDATE host_state SET trial_until = ${now + ttlMs}::bigint
        WHERE trial_owner = ${owner} AND breaker = 'half_open' AND trial_until > ${now}::bigint`;
      await this.sql`DELETE FROM host_slot WHERE expires_at <= docstokg_now_ms(${this.at}::bigint)`;
    });
  }

  async releaseOwner(owner: string): Promise<void> {
    return await this.retrying(async () => {
      await this.sql`DELETE FROM host_slot WHERE owner = ${owner}`;
    });
  }

  async knownHosts(limit: number): Promise<string[]> {
    return await this.retrying(async () => {
      const rows = await this.sql<{ host: string }[]>`
        SELECT host FROM (
          SELECT host, max(updated_at)::float8 AS t FROM host_state GROUP BY host
          UNION ALL SELECT host, max(tat) AS t FROM host_rate GROUP BY host
          UNION ALL SELECT host, max(expires_at)::float8 AS t FROM host_slot GROUP BY host) h
        GROUP BY host ORDER BY max(t) DESC LIMIT ${limit}`;
      return rows.map((r) => r.host);
    });
  }
}
