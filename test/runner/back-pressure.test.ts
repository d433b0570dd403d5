// Hosts that push back, and runners that die, as users meet them with the built binary: a 503 +
// Retry-After is waited out inside the attempt (fetch and queue run alike) and counts no attempt; a
// wait longer than politeness.max_wait_s releases the job until the host may be asked again,
// uncharged; a host that never stops answering 503 charges one attempt per exhausted try; after
// kill -9 a restarted runner takes its dead predecessor's leases back at once.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emptyDir, runBinary } from "../support/binary.ts";
import { makePdf } from "../support/pdf.ts";
import { type SimHost, startWeb } from "../support/web.ts";
import { openState, spawnRunner } from "./harness.ts";

const web = await startWeb();
const dirs: string[] = [];
afterAll(async () => {
  await web.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Setup {
  dir: string;
  configFile: string;
  env: Record<string, string>;
  stateDir: string;
}

function setup(extra: Record<string, unknown> = {}): Setup {
  const dir = emptyDir("docstokg-backpressure-");
  dirs.push(dir);
  const configFile = join(dir, "docstokg.json");
  const stateDir = join(dir, "state");
  writeFileSync(
    configFile,
    JSON.stringify({
      state_dir: stateDir,
      out_dir: join(dir, "library"),
      network: { allow_private: ["127.0.0.0/8"] },
      resolvers: { tiers: [["direct"]] },
      orchestrator: { poll_interval_s: 0.05, drain_max_delay_s: 10 },
      queue: { backoff_base_s: 0.2, backoff_cap_s: 0.5 },
      status: { enabled: false },
      ...extra,
    }),
  );
  return { dir, configFile, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir }, stateDir };
}

async function importUrls(s: Setup, urls: string[]): Promise<void> {
  const file = join(s.dir, "works.jsonl");
  writeFileSync(file, urls.map((u) => `${JSON.stringify({ pdf_urls: [u] })}\n`).join(""));
  const r = await runBinary(["queue", "import", file, "--config", s.configFile], { cwd: s.dir, env: s.env });
  expect(r.code).toBe(0);
}

async function drain(s: Setup): Promise<void> {
  const r = await runBinary(["queue", "run", "--drain", "--config", s.configFile], {
    cwd: s.dir,
    env: s.env,
  });
  expect(r.code).toBe(0);
}

function busyHost(host: SimHost, files: number, times: number, retryAfter: string | null): string[] {
  const urls: string[] = [];
  for (let i = 0; i < files; i++) {
    const path = `/f${i}.pdf`;
    host.pdf(path, makePdf(`busy ${host.name} ${i}`, { minBytes: 2000 }));
    host.fault(path, {
      kind: "status",
      status: 503,
      headers: retryAfter === null ? {} : { "retry-after": retryAfter },
      times,
    });
    urls.push(host.url(path));
  }
  return urls;
}

function jobRows(stateDir: string) {
  const db = openState(stateDir);
  try {
    return db
      .query<{ state: string; attempts: number; reason: string | null }, []>(
        "SELECT state, attempts, last_reason AS reason FROM jobs ORDER BY id",
      )
      .all();
  } finally {
    db.close();
  }
}

describe("back-pressure inside the attempt", () => {
  test("fetch: a file behind two 503 + Retry-After answers is obtained, saying what it waits for", async () => {
    const host = await web.host({ name: "busy-fetch.test" });
    const [url] = busyHost(host, 1, 2, "1");
    const s = setup();
    const r = await runBinary(["fetch", url as string, "--config", s.configFile, "--log-format", "json"], {
      cwd: s.dir,
      env: s.env,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("answered 503");
    expect(r.stderr).toContain("Retry-After of 1s");
    const hits = host.hits("/f0.pdf").map((h) => h.at);
    expect(hits).toHaveLength(3);
    expect((hits[1] as number) - (hits[0] as number)).toBeGreaterThanOrEqual(990);
  }, 20_000);

  test("queue run: every work of a host answering 503 + Retry-After twice is obtained in one attempt; the breaker stays closed", async () => {
    const host = await web.host({ name: "busy-run.test" });
    const urls = busyHost(host, 6, 2, "1");
    // A breaker that would open after two failures: back-pressure must not count toward it.
    const s = setup({
      politeness: {
        breaker_failures: 2,
        hosts: { [`${host.address}:${host.port}`]: { rate: "20/s", burst: 4, max_concurrent: 4 } },
      },
    });
    await importUrls(s, urls);
    await drain(s);
    expect(jobRows(s.stateDir)).toEqual(urls.map(() => ({ state: "done", attempts: 1, reason: "ok" })));
    const db = openState(s.stateDir);
    try {
      const row = db
        .query<{ breaker: string }, []>("SELECT breaker FROM host_state WHERE host LIKE '127.%'")
        .get();
      expect(row?.breaker).toBe("closed");
    } finally {
      db.close();
    }
  }, 20_000);

  test("a wait longer than max_wait_s releases the job until the host may be asked again, without an attempt", async () => {
    const host = await web.host({ name: "busy-long.test" });
    const urls = busyHost(host, 1, 1, "2");
    const s = setup({ politeness: { max_wait_s: 0.5 } });
    await importUrls(s, urls);
    await drain(s);
    // Done in its first counted attempt: the release in between was not charged.
    expect(jobRows(s.stateDir)).toEqual([{ state: "done", attempts: 1, reason: "ok" }]);
    const hits = host.hits("/f0.pdf").map((h) => h.at);
    expect(hits).toHaveLength(2);
    expect((hits[1] as number) - (hits[0] as number)).toBeGreaterThanOrEqual(1990);
  }, 20_000);

  test("a host that always answers 503 charges one attempt per exhausted try, and the job ends", async () => {
    const host = await web.host({ name: "busy-forever.test" });
    const urls = busyHost(host, 1, 1000, null);
    const s = setup({
      queue: { max_attempts: 2, backoff_base_s: 0.1, backoff_cap_s: 0.2 },
      download: { retries: 1 },
      politeness: { hosts: { [`${host.address}:${host.port}`]: { rate: "100/s" } }, breaker_failures: 100 },
    });
    await importUrls(s, urls);
    await drain(s);
    expect(jobRows(s.stateDir)).toEqual([{ state: "error", attempts: 2, reason: "http_503" }]);
    // download.retries counts per candidate over all its attempts (kept in the plan's progress):
    // the first attempt asks 1 + 1 times, the second has no retry left and asks once.
    expect(host.hits("/f0.pdf")).toHaveLength(3);
  }, 20_000);
});

describe("crash recovery", () => {
  test("after kill -9, a restarted runner takes the dead runner's leases back at once", async () => {
    const host = await web.host({ name: "hung.test" });
    const urls: string[] = [];
    for (let i = 0; i < 8; i++) {
      host.pdf(`/h${i}.pdf`, makePdf(`hung ${i}`, { minBytes: 2000 }));
      urls.push(host.url(`/h${i}.pdf`));
    }
    host.fault("*", { kind: "delay", ms: 30_000 });
    const s = setup({
      queue: { lease_ttl_s: 120 },
      politeness: {
        hosts: { [`${host.address}:${host.port}`]: { rate: "100/s", max_concurrent: 8, burst: 8 } },
      },
    });
    await importUrls(s, urls);
    const args = ["queue", "run", "--config", s.configFile, "--log-format", "json"];
    const first = await spawnRunner(args, { cwd: s.dir, env: s.env });
    const owners = () => {
      const db = openState(s.stateDir);
      try {
        return db
          .query<{ o: string; n: number }, []>(
            "SELECT lease_owner AS o, count(*) AS n FROM jobs WHERE state = 'in_progress' GROUP BY lease_owner",
          )
          .all();
      } finally {
        db.close();
      }
    };
    const until = async (ok: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!ok() && Date.now() < end) await Bun.sleep(25);
      return ok();
    };
    expect(await until(() => owners()[0]?.n === 8, 10_000)).toBe(true);
    const dead = owners()[0]?.o;
    first.proc.kill("SIGKILL");
    await first.exited;
    const restarted = Date.now();
    const second = await spawnRunner(args, { cwd: s.dir, env: s.env });
    try {
      // Leases of 120 s: only the reclaim can hand them over this soon.
      expect(await until(() => owners().some((r) => r.o !== dead && r.n === 8), 5_000)).toBe(true);
      expect(Date.now() - restarted).toBeLessThan(5_000);
      const line = await second.waitFor(/took back (\d+) job\(s\)/, 5_000);
      expect(line[1]).toBe("8");
    } finally {
      second.proc.kill("SIGKILL");
      await second.exited;
    }
  }, 30_000);
});
