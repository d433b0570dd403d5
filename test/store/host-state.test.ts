// The politeness store contract on SQLite (two connections to one file) and on PostgreSQL (two pools
// on one database, the fake clock as the database clock).

import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { openStateDatabase } from "../../src/store/db.ts";
import { migratePostgres } from "../../src/store/postgres/migrations.ts";
import { PostgresHostStore } from "../../src/store/postgres/politeness/host-state.ts";
import { SqliteHostStore } from "../../src/store/sqlite/host-state.ts";
import { startTestPostgres } from "../support/postgres.ts";
import { describeHostStateContract } from "./contracts/host-state-contract.ts";

describeHostStateContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "docstokg-host-state-"));
  const first = openStateDatabase(dir);
  const second = new Database(join(dir, "queue.db"));
  second.run("PRAGMA busy_timeout = 5000");
  return {
    stores: [new SqliteHostStore(first), new SqliteHostStore(second)],
    close() {
      first.close();
      second.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const pg = await startTestPostgres();
afterAll(async () => {
  await pg?.stop();
}, 60_000); // stopping a cluster can take a while on a loaded machine

if (pg) {
  describeHostStateContract("postgres", async (clock) => {
    const url = await pg.createDatabase("host_state");
    const one = new SQL({ url, max: 4 });
    const two = new SQL({ url, max: 4 });
    await migratePostgres(one);
    return {
      stores: [new PostgresHostStore(one, { clock }), new PostgresHostStore(two, { clock })],
      async close() {
        await one.close();
        await two.close();
      },
    };
  });
  test("a reservation that queued for the connection still starts at the database's instant", async () => {
    const url = await pg.createDatabase("host_state_clock");
    const sql = new SQL({ url, max: 1 });
    try {
      await migratePostgres(sql);
      const store = new PostgresHostStore(sql);
      const first = await store.reserveRate("h", "artifact", Date.now(), 300, 1, 10_000);
      // The next reservation waits ~120 ms behind another statement on the one connection: its
      // start must still be one interval after the first's, not 120 ms earlier.
      const busy = sql`SELECT pg_sleep(0.12)`.then(() => {});
      const second = await store.reserveRate("h", "artifact", Date.now(), 300, 1, 10_000);
      await busy;
      expect(second.startAt - first.startAt).toBeGreaterThan(290);
      expect(second.startAt - first.startAt).toBeLessThan(310);
    } finally {
      await sql.close();
    }
  });
} else {
  describe.skip("HostStateStore contract: postgres (PostgreSQL not installed)", () => {
    test("skipped", () => {});
  });
}
