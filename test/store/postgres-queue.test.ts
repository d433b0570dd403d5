// Runs the JobQueue contract against PostgreSQL: a throwaway cluster for this file (or the server
// named by TEST_DATABASE_URL), a fresh database per test, the contract's fake clock as the queue's
// clock override. Skipped only when PostgreSQL is not installed and CI is not set.
import { afterAll, describe, test } from "bun:test";
import { SQL } from "bun";
import { migratePostgres } from "../../src/store/postgres/migrations.ts";
import { PostgresJobQueue } from "../../src/store/postgres/queue.ts";
import { startTestPostgres } from "../support/postgres.ts";
import { describeJobQueueContract } from "./queue-contract.ts";

const pg = await startTestPostgres();
afterAll(async () => {
  await pg?.stop();
}, 60_000); // stopping a cluster can take a while on a loaded machine

if (pg) {
  describeJobQueueContract("postgres", async ({ now, random, policy }) => {
    const sql = new SQL({ url: await pg.createDatabase("contract"), max: 4 });
    await migratePostgres(sql);
    return {
      queue: new PostgresJobQueue(sql, policy, { clock: now, random }),
      async close() {
        await sql.close();
      },
    };
  });
} else {
  describe.skip("JobQueue contract: postgres (PostgreSQL not installed)", () => {
    test("skipped", () => {});
  });
}
