// robots.txt verdicts on PostgreSQL (robots_cache, migration 2): the same rows as SQLite's
// (net/robots-store.ts has the meaning), one statement per operation.
import type { SQL } from "bun";
import { type RobotsRow, type RobotsStore, robotsDetail, robotsFromRow } from "../../net/robots-store.ts";
import { num } from "./jobs/rows.ts";

export function postgresRobotsStore(sql: SQL): RobotsStore {
  return {
    async get(origin) {
      const [r] = await sql<RobotsRow[]>`
        SELECT kind, detail, expires_at FROM robots_cache WHERE origin = ${origin}`;
      return r ? robotsFromRow({ ...r, expires_at: num(r.expires_at) }) : undefined;
    },
    async put(origin, e) {
      await sql`
        INSERT INTO robots_cache (origin, kind, detail, expires_at)
        VALUES (${origin}, ${e.kind}, ${robotsDetail(e)}, ${e.expires}::bigint)
        ON CONFLICT (origin) DO UPDATE SET kind = excluded.kind, detail = excluded.detail,
          expires_at = excluded.expires_at`;
    },
  };
}
