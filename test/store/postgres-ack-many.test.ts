// Group commit of acks on PostgreSQL as one statement: it writes exactly what one ack after another
// writes (job rows, outcomes, attempts, stored URLs), keeps each item's token check and result when a
// job or a stored URL repeats in a batch, and a batch whose answer was lost is retried idempotently.
import { afterAll, describe, expect, test } from "bun:test";
import type { SQL } from "bun";
import { defaultConfig } from "../../src/config/schema.ts";
import { openPostgresQueue, PostgresJobQueue } from "../../src/store/postgres/queue.ts";
import { queuePolicy } from "../../src/store/sqlite-queue.ts";
import type { AckInput, JobCommit } from "../../src/store/types.ts";
import { startTestPostgres } from "../support/postgres.ts";
import { art, must } from "./queue-contract.ts";

const pg = await startTestPostgres();
afterAll(async () => {
  await pg?.stop();
}, 60_000); // stopping a cluster can take a while on a loaded machine

const T = 1_800_000_000_000;

function outcomeFor(n: number): AckInput {
  if (n % 3 === 0) return { state: "skipped", reason: "no_candidates", message: `none for ${n}` };
  return {
    state: "done",
    reason: "ok",
    resolver: "unpaywall",
    tier: 1,
    url: `https://user:pw@example.org/${n}.pdf?token=abc`,
    finalUrl: `https://cdn.example.org/${n}.pdf`,
    sha256: `${n}`.padStart(64, "0"),
    bytes: 1000 + n,
    contentType: "application/pdf",
    path: `pdf/${n}.pdf`,
    etag: `"e${n}"`,
    license: "cc-by",
    oaStatus: "gold",
    attempts: [
      {
        role: "artifact",
        resolver: "unpaywall",
        url: `https://example.org/${n}`,
        host: "example.org",
        httpStatus: 200,
        bytes: 5,
        at: T - n,
      },
      { role: "landing", resolver: "pmc", host: "pmc.example", reason: "http_404", elapsedMs: 12 },
    ],
    stored: {
      url: `https://example.org/${n}.pdf`,
      sha256: `${n}`.padStart(64, "0"),
      path: `pdf/${n}.pdf`,
      bytes: 1000 + n,
      kind: "pdf",
      etag: `"e${n}"`,
    },
  };
}

/** Everything an ack wrote, without ids, sequence numbers and tokens (which differ between runs). */
async function written(sql: SQL) {
  const jobs = await sql`SELECT artifact_id, state, attempts, last_reason, last_error, lease_token, updated_at
    FROM jobs ORDER BY artifact_id`;
  const outcomes =
    await sql`SELECT artifact_id, state, reason, message, resolver, tier, url, final_url, sha256,
      bytes, content_type, path, etag, last_modified, first_attempt_at, finished_at, attempts, license,
      license_url, version, host_type, oa_status
    FROM outcomes ORDER BY seq`;
  const attempts = await sql`SELECT j.artifact_id, a.role, a.resolver, a.tier, a.url, a.host, a.http_status,
      a.reason, a.bytes, a.elapsed_ms, a.rate_wait_ms, a.held_back_ms, a.at
    FROM attempts a JOIN jobs j ON j.id = a.job_id ORDER BY a.id`;
  const stored = await sql`SELECT * FROM stored_urls ORDER BY url`;
  return { jobs, outcomes, attempts, stored };
}

async function queueAt(prefix: string, clock = () => T) {
  const url = await must(pg).createDatabase(prefix);
  const { sql } = await openPostgresQueue(url, defaultConfig().queue);
  return { sql, queue: new PostgresJobQueue(sql, queuePolicy(defaultConfig().queue), { clock }) };
}

describe.skipIf(pg === null)("commitMany of acks as one statement", () => {
  test("writes exactly what one ack after another writes", async () => {
    const one = await queueAt("one_by_one");
    const many = await queueAt("group");
    const results: boolean[][] = [];
    for (const { queue } of [one, many]) {
      await queue.enqueue(Array.from({ length: 12 }, (_, i) => art(i)));
      const jobs = await queue.lease("w", 12);
      const commits: JobCommit[] = jobs.map((j) => ({
        kind: "ack",
        jobId: j.id,
        token: j.token,
        outcome: outcomeFor(Number(j.artifactId.split("/")[1])),
      }));
      // Two stale tokens among them: refused alone.
      commits.splice(3, 0, { ...(commits[3] as JobCommit), token: "stale" });
      commits.push({ ...(commits[7] as JobCommit), token: "forged" });
      if (queue === one.queue) {
        const r: boolean[] = [];
        for (const c of commits) {
          r.push(c.kind === "ack" ? await queue.ack(c.jobId, c.token, c.outcome) : false);
        }
        results.push(r);
      } else {
        results.push((await queue.commitMany(commits)).map((r) => r.ok && r.value === true));
      }
    }
    expect(results[1]).toEqual(must(results[0]));
    expect(must(results[0]).filter(Boolean)).toHaveLength(12);
    const a = await written(one.sql);
    const b = await written(many.sql);
    expect(b).toEqual(a);
    expect(a.attempts).toHaveLength(16); // 8 done jobs × 2 attempts
    expect(a.stored).toHaveLength(8);
    expect(String(a.outcomes[1]?.url)).not.toContain("pw"); // redacted like the single ack
    await one.sql.close();
    await many.sql.close();
  });

  test("a job twice in a batch counts once; a stored URL twice keeps the later item's file", async () => {
    const { sql, queue } = await queueAt("repeats");
    await queue.enqueue([art(1), art(2)]);
    const [a, b] = (await queue.lease("w", 2)).map(must);
    const file = (sha: string) => ({
      state: "done" as const,
      reason: "ok",
      stored: {
        url: "https://example.org/same.pdf",
        sha256: sha,
        path: `pdf/${sha}.pdf`,
        bytes: 1,
        kind: "pdf" as const,
      },
    });
    const results = await queue.commitMany([
      { kind: "ack", jobId: must(a).id, token: must(a).token, outcome: file("a".repeat(64)) },
      { kind: "ack", jobId: must(a).id, token: must(a).token, outcome: file("c".repeat(64)) },
      { kind: "ack", jobId: must(b).id, token: must(b).token, outcome: file("b".repeat(64)) },
    ]);
    expect(results).toEqual([
      { ok: true, value: true },
      { ok: true, value: false },
      { ok: true, value: true },
    ]);
    const [row] = await sql<{ sha256: string }[]>`SELECT sha256 FROM stored_urls`;
    expect(row?.sha256).toBe("b".repeat(64));
    const [n] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM outcomes`;
    expect(Number(n?.n)).toBe(2);
    await sql.close();
  });

  test("a batch whose answer was lost is retried and reports the acks it had", async () => {
    const url = await must(pg).createDatabase("lost_answer");
    const { sql } = await openPostgresQueue(url, defaultConfig().queue);
    let dropNext = false;
    const lost = Object.assign(new Error("Connection closed"), { code: "ERR_POSTGRES_CONNECTION_CLOSED" });
    // The statement runs and commits, then the answer is lost (as when the connection drops after COMMIT).
    const flaky = new Proxy(sql, {
      apply(target, self, args) {
        const query = Reflect.apply(target, self, args) as Promise<unknown>;
        if (!dropNext) return query;
        dropNext = false;
        return query.then(() => {
          throw lost;
        });
      },
    });
    const retries: number[] = [];
    const queue = new PostgresJobQueue(flaky, queuePolicy(defaultConfig().queue), {
      retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 },
      onRetry: (_e, n) => retries.push(n),
    });
    await queue.enqueue([art(1), art(2), art(3), art(4)]);
    const [held, ...jobs] = await queue.lease("w", 4);
    const ok = { state: "done", reason: "ok" } as const;
    dropNext = true;
    const results = await queue.commitMany([
      ...jobs.map((j): JobCommit => ({ kind: "ack", jobId: j.id, token: j.token, outcome: ok })),
      { kind: "ack", jobId: must(held).id, token: "forged", outcome: ok },
    ]);
    expect(retries).toEqual([1]);
    expect(results.map((r) => r.ok && r.value)).toEqual([true, true, true, false]);
    const [n] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM outcomes`;
    expect(Number(n?.n)).toBe(3);
    await sql.close();
  });
});
