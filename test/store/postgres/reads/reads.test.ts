// The whole-queue reads on PostgreSQL: `manifest export` pages through one snapshot.
import { afterAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { SQL } from "bun";
import { migratePostgres } from "../../../../src/store/postgres/migrations.ts";
import { postgresReads } from "../../../../src/store/postgres/reads/reads.ts";
import { exportOutcomes } from "../../../../src/telemetry/export.ts";
import { startTestPostgres } from "../../../support/postgres.ts";

const pg = await startTestPostgres();
afterAll(async () => {
  await pg?.stop();
}, 60_000); // stopping a cluster can take a while on a loaded machine

describe.skipIf(pg === null)("PostgreSQL reads", () => {
  test("manifest export is the state as it began: outcomes committed during it are not half in", async () => {
    if (!pg) return;
    const sql = new SQL({ url: await pg.createDatabase("reads"), max: 4 });
    try {
      await migratePostgres(sql);
      await sql`INSERT INTO jobs (artifact_id, artifact, available_at, created_at, updated_at) VALUES ('a', '{}', 0, 0, 0)`;
      const addOutcomes = (n: number) => sql`
        INSERT INTO outcomes (job_id, artifact_id, state, reason, finished_at, attempts)
        SELECT 1, 'a', 'error', 'timeout', 1, 1 FROM generate_series(1, ${n}::int)`;
      await addOutcomes(2500);
      // While the first page (1,000 lines) is being written, a runner commits 10 more outcomes: the
      // later pages, which start after seq 1,000, would otherwise take them in.
      let committed = false;
      const sink = new Writable({
        write(_chunk, _enc, done) {
          if (committed) return done();
          committed = true;
          addOutcomes(10).then(() => done(), done);
        },
      });
      expect(await exportOutcomes(postgresReads(sql), sink, "jsonl")).toBe(2500);
      expect(committed).toBe(true);
      expect(
        await exportOutcomes(postgresReads(sql), new Writable({ write: (_c, _e, d) => d() }), "jsonl"),
      ).toBe(2510);
    } finally {
      await sql.close();
    }
  });
});
