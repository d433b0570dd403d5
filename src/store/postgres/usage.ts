// Per-source daily usage on PostgreSQL (source_usage, migration 2): every runner adds to the same
// (source, day) row with one upsert, so quotas hold across the fleet.
import type { SQL } from "bun";
import type { UsageRow, UsageStore } from "../usage.ts";
import { num, numOrNull } from "./jobs/rows.ts";

function toUsageRow(r: Record<string, unknown>): UsageRow {
  return {
    source: String(r.source),
    day: String(r.day),
    requests: num(r.requests),
    cost_usd: num(r.cost_usd),
    remaining_usd: numOrNull(r.remaining_usd),
    limit_usd: numOrNull(r.limit_usd),
    exhausted_until: num(r.exhausted_until),
    updated_at: num(r.updated_at),
  };
}

export function postgresUsageStore(sql: SQL): UsageStore {
  return {
    async add(d) {
      await sql`
        INSERT INTO source_usage AS u (source, day, requests, cost_usd, remaining_usd, limit_usd, exhausted_until, updated_at)
        VALUES (${d.source}, ${d.day}, ${d.requests}::bigint, ${d.costUsd}::float8, ${d.remainingUsd ?? null}::float8,
                ${d.limitUsd ?? null}::float8, ${d.exhaustedUntil ?? 0}::bigint, ${d.now}::bigint)
        ON CONFLICT (source, day) DO UPDATE SET
          requests = u.requests + excluded.requests,
          cost_usd = u.cost_usd + excluded.cost_usd,
          remaining_usd = coalesce(excluded.remaining_usd, u.remaining_usd),
          limit_usd = coalesce(excluded.limit_usd, u.limit_usd),
          exhausted_until = greatest(u.exhausted_until, excluded.exhausted_until),
          updated_at = excluded.updated_at`;
    },
    async read(source, day) {
      const [r] = await sql<Record<string, unknown>[]>`
        SELECT * FROM source_usage WHERE source = ${source} AND day = ${day}`;
      return r ? toUsageRow(r) : null;
    },
    async ofDay(day) {
      const rows = await sql<Record<string, unknown>[]>`
        SELECT * FROM source_usage WHERE day = ${day} ORDER BY source`;
      return rows.map(toUsageRow);
    },
  };
}
