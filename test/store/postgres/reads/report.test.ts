// The report's reads on PostgreSQL: breaker openings are counted by the database, whoever writes.
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import type { HostRow } from "../../../../src/store/host-state.ts";
import { migratePostgres } from "../../../../src/store/postgres/migrations.ts";
import { PostgresHostStore } from "../../../../src/store/postgres/politeness/host-state.ts";
import { postgresReportRows } from "../../../../src/store/postgres/reads/report.ts";
import { startTestPostgres } from "../../../support/postgres.ts";

const pg = await startTestPostgres();
afterAll(async () => {
  await pg?.stop();
}, 60_000); // stopping a cluster can take a while on a loaded machine

describe.skipIf(pg === null)("PostgreSQL report reads", () => {
  test("a breaker opening is one each time a host's row goes into 'open', from any process", async () => {
    if (!pg) return;
    const url = await pg.createDatabase("report");
    const one = new SQL({ url, max: 2 });
    const two = new SQL({ url, max: 2 });
    try {
      await migratePostgres(one);
      const a = new PostgresHostStore(one);
      const b = new PostgresHostStore(two);
      const set = (store: PostgresHostStore, host: string, change: Partial<HostRow>, at: number) =>
        store.updateHost(host, at, (row) => ({ ...row, ...change }));
      // c.example: closed → open → (rewritten while open) → half-open → open (another process): two.
      await set(a, "c.example", { failures: 4 }, 1);
      await set(a, "c.example", { breaker: "open", failures: 5, breaker_reason: "conn_error" }, 2);
      await set(b, "c.example", { failures: 6 }, 3);
      await set(b, "c.example", { breaker: "half_open" }, 4);
      await set(b, "c.example", { breaker: "open", breaker_reason: "timeout" }, 5);
      // d.example opens on its first row; e.example never opens.
      await set(a, "d.example", { breaker: "open", breaker_reason: "timeout" }, 6);
      await set(a, "e.example", { cooldown_until: 10 }, 7);
      const rows = await postgresReportRows(one);
      expect(rows.openings.sort((x, y) => x.host.localeCompare(y.host))).toEqual([
        { host: "c.example", openings: 2 },
        { host: "d.example", openings: 1 },
      ]);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
