// The runner registry on PostgreSQL (runners, migration 1; store/runners.ts has the meaning).
// Heartbeats and start times are the database clock's, so `queue stats` compares them with one clock.
import type { SQL } from "bun";
import type { RunnerRegistry, RunnerRow } from "../runners.ts";
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

export function postgresRunnerRegistry(sql: SQL, clock?: () => number): RunnerRegistry {
  const at = () => (clock ? clock() : null);
  return {
    async register(r) {
      await sql`
        INSERT INTO runners (id, host, boot_id, pid, proc_start, version, started_at, heartbeat_at, in_flight)
        SELECT ${r.id}, ${r.host}, ${r.boot_id}, ${r.pid}, ${r.proc_start}, ${r.version}, n.now, n.now, ${r.in_flight}
        FROM (SELECT docstokg_now_ms(${at()}::bigint) AS now) n
        ON CONFLICT (id) DO UPDATE SET host = excluded.host, boot_id = excluded.boot_id, pid = excluded.pid,
          proc_start = excluded.proc_start, version = excluded.version, started_at = excluded.started_at,
          heartbeat_at = excluded.heartbeat_at, in_flight = excluded.in_flight`;
    },
    async heartbeat(id, _now, inFlight) {
      await sql`
        UPDATE runners SET heartbeat_at = docstokg_now_ms(${at()}::bigint), in_flight = ${inFlight}
        WHERE id = ${id}`;
    },
    async remove(id) {
      await sql`DELETE FROM runners WHERE id = ${id}`;
    },
    async list() {
      const rows = await sql<Record<string, unknown>[]>`SELECT * FROM runners ORDER BY started_at, id`;
      return rows.map(toRunner);
    },
    async ofBoot(host, bootId, self) {
      const rows = await sql<Record<string, unknown>[]>`
        SELECT * FROM runners WHERE host = ${host} AND boot_id = ${bootId} AND id <> ${self} ORDER BY started_at`;
      return rows.map(toRunner);
    },
    async reclaim(id, _now) {
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
