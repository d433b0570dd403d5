// `docstokg openalex import` as users run it: the built binary against the simulated OpenAlex
// (1,234 works, a 429 + Retry-After on page 3), killed with SIGKILL twice — once inside the announced
// wait, once with a page in flight — and run again. Every work is queued exactly once, at most one
// page per kill is asked twice, nothing reaches the host inside the wait, the key never shows.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtBinary, emptyDir, runBinary } from "../support/binary.ts";
import { type SimRequest, simWorkDoi, startOpenAlex } from "../support/openalex.ts";
import { startWeb } from "../support/web.ts";

const WORKS = 1234;
const RETRY_AFTER_S = 2;
const KEY = "sim-secret-key-42";

const web = await startWeb();
const dir = emptyDir("docstokg-openalex-");
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves when `pred` holds for a request that arrives (checked on every arrival). */
function arrival(requests: SimRequest[], pred: (r: SimRequest, all: SimRequest[]) => boolean) {
  return new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (requests.some((r) => pred(r, requests))) {
        clearInterval(poll);
        resolve();
      }
    }, 1);
  });
}

test(`kill -9 during a ${WORKS}-work pull (inside a Retry-After wait, then mid-page), rerun: each work queued once`, async () => {
  let killNow: (() => void) | undefined;
  const oa = await startOpenAlex(web, {
    works: WORKS,
    throttle: { page: 3, retryAfterS: RETRY_AFTER_S },
    delayMs: 40,
    onRequest: () => killNow?.(),
  });
  const config = join(dir, "docstokg.json");
  writeFileSync(
    config,
    JSON.stringify({
      state_dir: join(dir, "state"),
      out_dir: join(dir, "library"),
      contact_email: "librarian@example.org",
      network: { allow_private: ["127.0.0.0/8"] },
      resolvers: { openalex: { base_url: oa.baseUrl } },
    }),
  );
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, OPENALEX_API_KEY: KEY };
  const args = ["openalex", "import", "--filter", "publication_year:>2019,is_oa:true", "--config", config];
  const binary = await builtBinary();
  const spawn = () => Bun.spawn([binary, ...args], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });

  // 1: killed while it waits out the 429's Retry-After.
  const first = spawn();
  await arrival(oa.requests, (r) => r.status === 429);
  await Bun.sleep(300);
  first.kill("SIGKILL");
  await first.exited;
  const throttle = oa.requests.find((r) => r.status === 429) as SimRequest;

  // 2: killed the moment its third page request arrives (the page is in flight, not committed).
  const before = oa.requests.length;
  const second = spawn();
  killNow = () => {
    if (oa.requests.length - before >= 3) {
      killNow = undefined;
      second.kill("SIGKILL");
    }
  };
  await second.exited;
  expect(second.exitCode).toBeNull(); // it was killed, not finished

  // 3: runs to the end.
  const third = await runBinary(args, { cwd: dir, env });
  expect(third.code).toBe(0);
  expect(third.stdout).toContain("complete");
  // 4: the pull is complete and says so without asking anything.
  const asked = oa.requests.length;
  const fourth = await runBinary(args, { cwd: dir, env });
  expect(fourth.code).toBe(0);
  expect(fourth.stdout).toContain("already complete");
  expect(oa.requests.length).toBe(asked);
  const listed = await runBinary(["openalex", "list", "--config", config], { cwd: dir, env });
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/^ID\s+STATE\s+PAGES\s+WORKS/);
  expect(listed.stdout).toMatch(
    /\n1\s+done\s+8\s+1,234\/1,234\s+1,234\s+\$0\.0008\s+\S+ \S+\s+filter is_oa:true,publication_year:>2019/,
  );
  const json = await runBinary(["openalex", "list", "--json", "--config", config], { cwd: dir, env });
  expect(JSON.parse(json.stdout)).toMatchObject({ state: "done", pages: 8, works: WORKS, count: WORKS });
  for (const out of [third.stdout, third.stderr, fourth.stdout, fourth.stderr, listed.stdout, json.stdout])
    expect(out).not.toContain(KEY);

  const db = new Database(join(dir, "state", "queue.db"), { readonly: true });
  try {
    const ids = db.query<{ artifact_id: string }, []>("SELECT artifact_id FROM jobs").all();
    expect(ids).toHaveLength(WORKS);
    expect(new Set(ids.map((r) => r.artifact_id))).toEqual(
      new Set(Array.from({ length: WORKS }, (_, i) => `doi:${simWorkDoi(i)}`)),
    );
    const pull = db
      .query<{ state: string; works: number; queued: number; duplicate: number }, []>(
        "SELECT state, works, queued, duplicate FROM openalex_pulls",
      )
      .get();
    expect(pull).toEqual({ state: "done", works: WORKS, queued: WORKS, duplicate: 0 });
  } finally {
    db.close();
  }

  // Pages asked more than once (the 429 answer aside): at most one per kill, and only twice.
  const perCursor = new Map<string, number>();
  for (const r of oa.requests)
    if (r.status !== 429) perCursor.set(r.cursor, (perCursor.get(r.cursor) ?? 0) + 1);
  const repeated = [...perCursor.values()].filter((n) => n > 1);
  expect(repeated.length).toBeLessThanOrEqual(2);
  expect(Math.max(...perCursor.values())).toBeLessThanOrEqual(2);
  // Nothing reached the host inside the announced wait, although the process that heard it died.
  const after = oa.requests.filter((r) => r.at > throttle.at);
  expect(after.length).toBeGreaterThan(0);
  expect(Math.min(...after.map((r) => r.at)) - throttle.at).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000);
}, 120_000);
