// Steering by command and the queue-wide settings: requeue named jobs, retry failed ones, and the
// pause flag (lease.ts reads it in the claiming statement; a NOTIFY tells listening runners at once).
import type { SQL } from "bun";
import type { RequeueResult } from "../../types.ts";
import { findJobId } from "./read.ts";
import { num } from "./rows.ts";

export const SETTINGS_CHANNEL = "docstokg_settings";

export async function retryFailedJobs(
  sql: SQL,
  clock: number | null,
  reason: string | undefined,
  dryRun: boolean,
): Promise<number> {
  if (dryRun) {
    const [row] = await sql<{ n: string }[]>`
      SELECT count(*) AS n FROM jobs WHERE state = 'error' AND (${reason ?? null}::text IS NULL OR last_reason = ${reason ?? null}::text)`;
    return Number(row?.n ?? 0);
  }
  const r = await sql`
    UPDATE jobs SET state = 'queued', attempts = 0, available_at = docstokg_now_ms(${clock}::bigint), progress = NULL,
      lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = docstokg_now_ms(${clock}::bigint)
    WHERE state = 'error' AND (${reason ?? null}::text IS NULL OR last_reason = ${reason ?? null}::text)`;
  return r.count;
}

export async function requeueJobs(
  sql: SQL,
  keys: readonly (string | number)[],
  clock: number | null,
): Promise<RequeueResult> {
  const result: RequeueResult = { requeued: [], notFound: [], inProgress: [] };
  await sql.begin(async (tx) => {
    for (const key of keys) {
      const id = await findJobId(tx, key);
      if (id === null) {
        result.notFound.push(String(key));
        continue;
      }
      const rows = await tx<{ id: string }[]>`
        UPDATE jobs SET state = 'queued', attempts = 0, available_at = docstokg_now_ms(${clock}::bigint), progress = NULL,
          lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = docstokg_now_ms(${clock}::bigint)
        WHERE id = ${id}::bigint AND state <> 'in_progress' RETURNING id`;
      if (rows.length === 1) result.requeued.push(num(rows[0]?.id));
      else result.inProgress.push(String(key));
    }
  });
  return result;
}

export async function setPaused(sql: SQL, paused: boolean): Promise<void> {
  const value = paused ? "1" : "0";
  await sql.begin(async (tx) => {
    await tx`INSERT INTO settings (key, value) VALUES ('paused', ${value}::text)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
    // Delivered at commit; a runner that missed it (reconnecting) re-reads the flag.
    await tx`SELECT pg_notify(${SETTINGS_CHANNEL}::text, ${`paused=${value}`}::text)`;
  });
}

export async function isPaused(sql: SQL): Promise<boolean> {
  const [row] = await sql<{ value: string }[]>`SELECT value FROM settings WHERE key = 'paused'`;
  return row?.value === "1";
}
