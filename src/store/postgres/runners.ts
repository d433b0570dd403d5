// The runner registry on PostgreSQL (runners, migration 1; store/runners.ts has the meaning).
// Heartbeats and start times are the database clock's, so `queue stats` compares them with one clock.
import type { SQL } from "bun";
import type { RunnerRegistry, RunnerRow } from "../runners.ts";
import { connectionHealth } from "./health.ts";
import { num } from "./jobs/rows.ts";

function toRunner(r: Record<string, unknown>): RunnerRow {
  return {
    id: String(r.id),
    host: String(r.host),
    boot_id: (r.boot_id as string | null) ?? null,
    pid: num(r.pid),
    proc_start: (r.proc_start as string | null) ?? null,
    version: String(r.version),
    started_at: num(r.started_at),
    heartbeat_at: num(r.heartbeat_at),
    in_flight: num(r.in_flight),
  };
}

/** Every call retried over a dropped connection (health.ts): each one repeats harmlessly. */
export function postgresRunnerRegistry(sql: SQL, clock?: () => number): RunnerRegistry {
  const health = connectionHealth(sql);
  const inner = registry(sql, clock);
  return {
    register: (r) => health.retrying(() => inner.register(r)),
    heartbeat: (id, now, inFlight) => health.retrying(() => inner.heartbeat(id, now, inFlight)),
    remove: (id) => health.retrying(() => inner.remove(id)),
    list: () => health.retrying(() => inner.list()),
    ofBoot: (host, bootId, self) => health.retrying(() => inner.ofBoot(host, bootId, self)),
    // A repeat after an unanswered COMMIT finds nothing left to take back: it answers 0 jobs.
    reclaim: (id, now) => health.retrying(() => inner.reclaim(id, now)),
  };
}

function registry(sql: SQL, clock?: () => number) {
  const at = () => (clock ? clock() : null);
  return {
    async register(r: RunnerRow) {
      await sql`
        INSERT INTO runners (id, host, boot_id, pid, proc_start, version, started_at, heartbeat_at, in_flight)
        SELECT ${r.id}, ${r.host}, ${r.boot_id}, ${r.pid}, ${r.proc_start}, ${r.version}, n.now, n.now, ${r.in_flight}
        FROM (SELECT docstokg_now_ms(${at()}::bigint) AS now) n
        ON CONFLICT (id) DO UPDATE SET host = excluded.host, boot_id = excluded.boot_id, pid = excluded.pid,
          proc_start = excluded.proc_start, version = excluded.version, started_at = excluded.started_at,
          heartbeat_at = excluded.heartbeat_at, in_flight = excluded.in_flight`;
    },
    async heartbeat(id: string, _now: number, inFlight: number) {
      await sql`
        UPDATE runners SET heartbeat_at = docstokg_now_ms(${at()}::bigint), in_flight = ${inFlight}
        WHERE id = ${id}`;
    },
    async remove(id: string) {
      await sql`DELETE FROM runners WHERE id = ${id}`;
    },
    async list() {
      const rows = await sql<Record<string, unknown>[]>`SELECT * FROM runners ORDER BY started_at, id`;
      return rows.map(toRunner);
    },
    async ofBoot(host: string, bootId: string, self: string) {
      const rows = await sql<Record<string, unknown>[]>`
        SELECT * FROM runners WHERE host = ${host} AND boot_id = ${bootId} AND id <> ${self} ORDER BY started_at`;
      return rows.map(toRunner);
    },
    async reclaim(id: string, _now: number) {
      return await sql.begin(async (tx) => {
        const jobs = await tx`
          UPDATE jobs SET lease_expires_at = n.now, updated_at = n.now
          FROM (SELECT docstokg_now_ms(${at()}::bigint) AS now) n
          WHERE state = 'in_progress' AND lease_owner = ${id} AND lease_expires_at > n.now
          RETURNING id`;
        await tx`DELETE FROM host_slot WHERE owner = ${id}`;
        await tx`UPDATE host_state SET trial_until = 0 WHERE trial_owner = ${id} AND breaker = 'half_open'`;
        await tx`DELETE FROM runners WHERE id = ${id}`;
        return jobs.length;
      });
    },
  };
}
