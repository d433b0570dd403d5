// PostgreSQL-specific guarantees beyond the contract: several pools leasing and acking one queue at
// once (no job held by two leases, none lost, none acked twice), the database clock, an ack retried
// after its COMMIT went unanswered, and migrations (recorded, repeatable, refusing a newer database).
import { afterAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import * as v from "valibot";
import { redactSecrets, secretValues } from "../../src/config/redact.ts";
import { ConfigSchema, defaultConfig } from "../../src/config/schema.ts";
import { printableDatabaseUrl } from "../../src/store/postgres/connection.ts";
import { ackJob, confirmAck } from "../../src/store/postgres/jobs/finish.ts";
import {
  DatabaseTooNewError,
  LATEST_POSTGRES_VERSION,
  migratePostgres,
  postgresSchemaVersion,
} from "../../src/store/postgres/migrations.ts";
import { openPostgresQueue, PostgresJobQueue } from "../../src/store/postgres/queue.ts";
import { isRetryable, withRetry } from "../../src/store/postgres/retry.ts";
import { queuePolicy } from "../../src/store/sqlite-queue.ts";
import { startTestPostgres } from "../support/postgres.ts";
import { art, must } from "./queue-contract.ts";

const pg = await startTestPostgres();
afterAll(async () => {
  await pg?.stop();
}, 60_000); // stopping a cluster can take a while on a loaded machine

const POLICY = queuePolicy(defaultConfig().queue);

describe.skipIf(pg === null)("PostgresJobQueue on a shared database", () => {
  test("4 pools leasing and acking for 3 s: no double lease, none lost, none acked twice", async () => {
    const url = await must(pg).createDatabase("fleet");
    const { sql: setup, queue: seed } = await openPostgresQueue(url, defaultConfig().queue, { poolSize: 2 });
    const total = 40_000;
    for (let i = 0; i < total; i += 10_000) {
      await seed.enqueue(Array.from({ length: 10_000 }, (_, k) => art(i + k)));
    }
    const leasesOf = new Map<number, number>();
    const acked = { true: 0, false: 0 };
    const until = Date.now() + 3_000;
    const worker = async (w: number) => {
      const sql = new SQL({ url, max: 2 });
      const q = new PostgresJobQueue(sql, POLICY);
      for (;;) {
        const jobs = await q.lease(`w${w}`, 64);
        if (jobs.length === 0) break;
        for (const j of jobs) leasesOf.set(j.id, (leasesOf.get(j.id) ?? 0) + 1);
        const results = await q.commitMany(
          jobs.map((j) => ({
            kind: "ack",
            jobId: j.id,
            token: j.token,
            outcome: { state: "done", reason: "ok" },
          })),
        );
        for (const r of results) acked[r.ok && r.value === true ? "true" : "false"]++;
        if (Date.now() > until) break;
      }
      await sql.close();
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    const doubleLeased = [...leasesOf.values()].filter((n) => n > 1).length;
    const [counts] = await setup<{ done: string; outcomes: string; twice: string; in_progress: string }[]>`
      SELECT (SELECT count(*) FROM jobs WHERE state = 'done') AS done,
             (SELECT count(*) FROM outcomes) AS outcomes,
             (SELECT count(*) FROM (SELECT job_id FROM outcomes GROUP BY job_id HAVING count(*) > 1) t) AS twice,
             (SELECT count(*) FROM jobs WHERE state = 'in_progress') AS in_progress`;
    expect(leasesOf.size).toBeGreaterThan(1_000);
    expect(doubleLeased).toBe(0);
    expect(acked.false).toBe(0);
    expect(Number(counts?.done)).toBe(acked.true);
    expect(Number(counts?.outcomes)).toBe(acked.true);
    expect(Number(counts?.twice)).toBe(0);
    expect(Number(counts?.in_progress)).toBe(0); // every leased job was acked: none lost
    const stats = await seed.stats();
    expect(stats.counts.done + stats.counts.queued).toBe(total);
    await setup.close();
  }, 30_000);

  test("without a clock override, lease expiry is the database's now + TTL", async () => {
    const { sql, queue } = await openPostgresQueue(
      await must(pg).createDatabase("clock"),
      defaultConfig().queue,
    );
    await queue.enqueue([art(1)]);
    const [before] = await sql<{ now: string }[]>`SELECT docstokg_now_ms(NULL) AS now`;
    const [job] = await queue.lease("w", 1);
    const [after] = await sql<{ now: string }[]>`SELECT docstokg_now_ms(NULL) AS now`;
    const expires = must(job).leaseExpiresAt;
    expect(expires).toBeGreaterThanOrEqual(Number(before?.now) + POLICY.leaseTtlMs);
    expect(expires).toBeLessThanOrEqual(Number(after?.now) + POLICY.leaseTtlMs);
    await sql.close();
  });

  test("an ack whose COMMIT went unanswered is retried and reports the success it had", async () => {
    const { sql, queue } = await openPostgresQueue(
      await must(pg).createDatabase("retry"),
      defaultConfig().queue,
    );
    await queue.enqueue([art(1)]);
    const [job] = await queue.lease("w", 1);
    const { id, token } = must(job);
    let tries = 0;
    const lostAnswer = Object.assign(new Error("Connection closed"), {
      code: "ERR_POSTGRES_CONNECTION_CLOSED",
    });
    const result = await withRetry(
      async () => {
        tries++;
        const applied = await ackJob(sql, id, token, { state: "done", reason: "ok" }, { clock: null });
        if (tries === 1) throw lostAnswer; // it committed, but the answer never came back
        return applied;
      },
      { retries: 3, baseDelayMs: 1, maxDelayMs: 1 },
      {},
      { isLost: (r) => r === false, confirm: () => confirmAck(sql, id, token) },
    );
    expect(tries).toBe(2);
    expect(result).toBe(true);
    expect(must(await queue.show(id)).outcomes).toHaveLength(1);
    // A genuinely stale token is still refused after a retry.
    const stale = await withRetry(
      async () => {
        if (tries++ === 2) throw lostAnswer;
        return await ackJob(sql, id, "forged", { state: "done", reason: "ok" }, { clock: null });
      },
      { retries: 3, baseDelayMs: 1, maxDelayMs: 1 },
      {},
      { isLost: (r) => r === false, confirm: () => confirmAck(sql, id, "forged") },
    );
    expect(stale).toBe(false);
    expect(isRetryable(lostAnswer)).toBe(true);
    expect(
      isRetryable(Object.assign(new Error("dup"), { errno: "23505", code: "ERR_POSTGRES_SERVER_ERROR" })),
    ).toBe(false);
    await sql.close();
  });

  test("a server that is down (refused connection) is retried, as Bun's client reports it", async () => {
    // A loopback port nothing listens on: what a runner meets while the server restarts.
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = listener.port;
    listener.stop(true);
    const down = new SQL({ url: `postgres://docstokg@127.0.0.1:${port}/none`, max: 1, connectionTimeout: 2 });
    const error = await down`SELECT 1`.then(
      () => null,
      (e: unknown) => e,
    );
    await down.close();
    expect(error).not.toBeNull();
    expect(isRetryable(error)).toBe(true);
  });

  test("migrations are recorded, a second run applies nothing, a newer database is refused", async () => {
    const sql = new SQL({ url: await must(pg).createDatabase("migrate"), max: 2 });
    expect(await postgresSchemaVersion(sql)).toBe(0);
    // Every version from 1 up, each once.
    expect(await migratePostgres(sql)).toEqual(
      Array.from({ length: LATEST_POSTGRES_VERSION }, (_, i) => i + 1),
    );
    expect(await postgresSchemaVersion(sql)).toBe(LATEST_POSTGRES_VERSION);
    expect(await migratePostgres(sql)).toEqual([]);
    await sql`INSERT INTO schema_version (version, name) VALUES (${LATEST_POSTGRES_VERSION + 1}, 'future')`;
    await expect(migratePostgres(sql)).rejects.toBeInstanceOf(DatabaseTooNewError);
    await sql.close();
  });

  test("a database URL is printed without its credentials", () => {
    expect(
      printableDatabaseUrl("postgres://docstokg:s3cret@db.example:5432/q?sslmode=require&password=x"),
    ).toBe("postgres://db.example:5432/q?sslmode=require&password=REDACTED");
  });

  test("database_url: empty or postgres://, never printed or logged with its password", () => {
    expect(defaultConfig().database_url).toBe("");
    expect(defaultConfig().database_pool_size).toBe(10);
    expect(v.safeParse(ConfigSchema, { database_url: "mysql://x/y" }).success).toBe(false);
    const config = v.parse(ConfigSchema, { database_url: "postgresql://fleet:pa%24s@db.example/q" });
    expect(redactSecrets(config).database_url).toBe("postgresql://db.example/q");
    expect(secretValues(config)).toContain("pa$s");
  });
});
