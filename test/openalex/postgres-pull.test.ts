// OpenAlex pulls on PostgreSQL: `openalex import` through the built binary with --database-url
// queues every work once (3 full pages, then the empty one that ends the walk) and keeps its cursor
// in the shared database (a second run asks nothing; `openalex list` and `queue stats` read it
// there); a page committed at a cursor the pull has left is refused with its jobs rolled back, so
// two processes on one pull never both commit a page.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { normalizeArtifact } from "../../src/artifact/artifact.ts";
import { migratePostgres } from "../../src/store/postgres/migrations.ts";
import { postgresPullStore } from "../../src/store/postgres/pulls.ts";
import { PullMovedError } from "../../src/store/pulls.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import { startOpenAlex } from "../support/openalex.ts";
import { startTestPostgres } from "../support/postgres.ts";
import { startWeb } from "../support/web.ts";

const WORKS = 450;

const pg = await startTestPostgres();
const web = await startWeb();
const dir = emptyDir("docstokg-openalex-pg-");
afterAll(async () => {
  await web.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!pg)("OpenAlex pulls on PostgreSQL", () => {
  test("openalex import queues every work once in the shared database and resumes from its cursor there", async () => {
    if (!pg) return;
    const url = await pg.createDatabase("pull");
    const oa = await startOpenAlex(web, { works: WORKS });
    const config = join(dir, "docstokg.json");
    writeFileSync(
      config,
      JSON.stringify({
        state_dir: join(dir, "state"),
        out_dir: join(dir, "library"),
        database_url: url,
        contact_email: "librarian@example.org",
        network: { allow_private: ["127.0.0.0/8"] },
        resolvers: { openalex: { base_url: oa.baseUrl } },
      }),
    );
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, OPENALEX_API_KEY: "k" };
    const args = ["openalex", "import", "--filter", "is_oa:true", "--config", config];
    const first = await runBinary(args, { cwd: dir, env });
    expect(first.stderr).not.toContain("error");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("complete");
    const asked = oa.requests.length;
    const again = await runBinary(args, { cwd: dir, env });
    expect(again.stdout).toContain("already complete");
    expect(oa.requests.length).toBe(asked);

    const listed = await runBinary(["openalex", "list", "--json", "--config", config], { cwd: dir, env });
    expect(JSON.parse(listed.stdout)).toMatchObject({ state: "done", pages: 4, works: WORKS, queued: WORKS });
    const stats = await runBinary(["queue", "stats", "--json", "--config", config], { cwd: dir, env });
    expect(JSON.parse(stats.stdout).counts.queued).toBe(WORKS);
  }, 120_000);

  test("a page committed at a cursor the pull has left changes nothing", async () => {
    if (!pg) return;
    const sql = new SQL({ url: await pg.createDatabase("moved"), max: 2 });
    try {
      await migratePostgres(sql);
      const pulls = postgresPullStore(sql);
      const pull = await pulls.start("is_oa:true", "", 1000);
      const work = (n: number) => {
        const a = normalizeArtifact({ doi: `10.1000/moved${n}` });
        if (!a.ok) throw new Error(a.reason);
        return a.value;
      };
      const page = { pullId: pull.id, invalid: 0, count: 4, costUsd: 0.0001, now: 2000 };
      expect(
        await pulls.commitPage({ ...page, cursor: "*", nextCursor: "c2", works: [work(1), work(2)] }),
      ).toBe(2);
      // Another process asked page 1 again and commits it late: refused, its new job not kept.
      await expect(
        pulls.commitPage({ ...page, cursor: "*", nextCursor: "c2", works: [work(2), work(3)] }),
      ).rejects.toBeInstanceOf(PullMovedError);
      const [jobs] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM jobs`;
      expect(Number(jobs?.n)).toBe(2);
      expect(await pulls.find("is_oa:true", "")).toMatchObject({
        cursor: "c2",
        pages: 1,
        works: 2,
        queued: 2,
      });
      expect(await pulls.commitPage({ ...page, cursor: "c2", nextCursor: null, works: [work(3)] })).toBe(1);
      expect(await pulls.list()).toEqual([
        expect.objectContaining({ state: "done", cursor: null, pages: 2, works: 3, queued: 3, duplicate: 0 }),
      ]);
    } finally {
      await sql.close();
    }
  });
});
