// Pulls against the simulated OpenAlex through the real HTTP client, politeness and queue database:
// paging to the end, resuming, --max, the spending cap, budget headers, 429 / 403 back-pressure,
// refusals that fail a pull, and the dry-run estimate.
import type { Database } from "bun:sqlite";
import { afterAll, afterEach, beforeEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { type Config, ConfigSchema } from "../../src/config/schema.ts";
import { createHttpClient } from "../../src/net/fetch.ts";
import { dryRunPull, OpenAlexRequestError, type PullDeps, runPull } from "../../src/openalex/pull.ts";
import { pullQuery } from "../../src/openalex/query.ts";
import { createPoliteness, type Politeness } from "../../src/politeness/politeness.ts";
import { openDatabase } from "../../src/store/db.ts";
import { listPulls } from "../../src/store/pulls.ts";
import { loopbackOnly } from "../resolve/harness.ts";
import { type SimOpenAlexOptions, simWorkDoi, startOpenAlex } from "../support/openalex.ts";
import { tempDir } from "../support/temp.ts";
import { type SimWeb, startWeb } from "../support/web.ts";

const web: SimWeb = await startWeb();
afterAll(() => web.stop());

let dir: string;
let db: Database;
let politeness: Politeness;
beforeEach(() => {
  dir = tempDir("openalex");
  db = openDatabase(join(dir, "queue.db"));
});
afterEach(() => {
  politeness?.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const QUERY = pullQuery("publication_year:>2019, is_oa:true", "");

async function setup(o: SimOpenAlexOptions & { key?: string | null; cap?: number } = {}) {
  const oa = await startOpenAlex(web, o);
  const config: Config = v.parse(ConfigSchema, {
    state_dir: dir,
    contact_email: "librarian@example.org",
    network: { allow_private: ["127.0.0.0/8"] },
    politeness: { rates: { metadata: "50/s" } },
    resolvers: {
      openalex: { base_url: oa.baseUrl, ...(o.cap !== undefined ? { max_cost_usd: o.cap } : {}) },
    },
  });
  politeness = createPoliteness({ db, config, now: Date.now });
  const http = createHttpClient({ config, politeness, version: "0.0.0-test", transport: loopbackOnly });
  const deps: PullDeps = {
    db,
    http,
    config,
    apiKey: o.key === null ? undefined : (o.key ?? "sim-key"),
    email: "librarian@example.org",
    now: Date.now,
  };
  return { oa, deps, config };
}

const jobIds = () =>
  db
    .query<{ artifact_id: string }, []>("SELECT artifact_id FROM jobs ORDER BY artifact_id")
    .all()
    .map((r) => r.artifact_id);

test("a pull pages to the end: every work queued once, the request as documented, the cost recorded", async () => {
  const { oa, deps } = await setup({ works: 450 });
  const r = await runPull(deps, { query: QUERY, priority: 3 });
  expect(r.end).toBe("complete");
  expect(r.pull).toMatchObject({
    state: "done",
    pages: 4,
    works: 450,
    queued: 450,
    duplicate: 0,
    count: 450,
  });
  expect(r.pull.cost_usd).toBeCloseTo(0.0004, 9);
  const ids = jobIds();
  expect(ids).toHaveLength(450);
  expect(new Set(ids)).toEqual(new Set(Array.from({ length: 450 }, (_, i) => `doi:${simWorkDoi(i)}`)));
  expect(db.query<{ p: number }, []>("SELECT min(priority) AS p FROM jobs").get()?.p).toBe(3);
  const first = oa.requests[0]?.params as URLSearchParams;
  expect(first.get("filter")).toBe("is_oa:true,publication_year:>2019");
  expect(first.get("per-page")).toBe("200");
  expect(first.get("cursor")).toBe("*");
  expect(first.get("select")).toBe(
    "id,doi,title,publication_year,ids,open_access,best_oa_location,primary_location,locations",
  );
  expect(first.get("mailto")).toBe("librarian@example.org");
  expect(first.get("api_key")).toBe("sim-key");
  // Each cursor asked once; the last (empty) page ends the walk.
  expect(new Set(oa.requests.map((q) => q.cursor)).size).toBe(oa.requests.length);
  // Run again: complete, nothing asked.
  const again = await runPull(deps, { query: pullQuery("is_oa:true,publication_year:>2019", "") });
  expect(again).toMatchObject({ end: "complete", already: true });
  expect(oa.requests).toHaveLength(4);
});

test("--max caps one run; a later run continues where it stopped and queues the rest once", async () => {
  const { oa, deps } = await setup({ works: 450 });
  const first = await runPull(deps, { query: QUERY, max: 250 });
  expect(first.end).toBe("max");
  expect(first.run.works).toBe(250);
  expect(oa.requests.map((q) => q.perPage)).toEqual([200, 50]);
  expect(jobIds()).toHaveLength(250);
  const second = await runPull(deps, { query: QUERY, max: 1000 });
  expect(second.end).toBe("complete");
  expect(second.run.works).toBe(200);
  expect(jobIds()).toHaveLength(450);
  expect(second.pull).toMatchObject({ works: 450, queued: 450, state: "done" });
});

test("the spending cap stops before the page that would pass it", async () => {
  const { oa, deps } = await setup({ works: 1000, cap: 0.00025 });
  const r = await runPull(deps, { query: QUERY });
  expect(r).toMatchObject({ end: "cost_cap", capUsd: 0.00025 });
  expect(oa.requests).toHaveLength(2);
  expect(r.pull.cost_usd).toBeCloseTo(0.0002, 9);
  expect(r.pull.state).toBe("running");
});

test("a spent budget announced in the headers stops the pull before asking again", async () => {
  const { oa, deps } = await setup({ works: 1000, budgetUsd: 0.0002 });
  const r = await runPull(deps, { query: QUERY });
  expect(r.end).toBe("budget");
  if (r.end === "budget") expect(r.resetAt).toBeGreaterThan(Date.now());
  expect(oa.requests.filter((q) => q.status === 429)).toHaveLength(0);
  expect(r.pull).toMatchObject({ pages: 2, works: 400, state: "running" });
});

test("429 with Retry-After: nothing goes to the host before the announced time, and the pull completes", async () => {
  const { oa, deps } = await setup({ works: 450, throttle: { page: 2, retryAfterS: 1 } });
  const r = await runPull(deps, { query: QUERY });
  expect(r.end).toBe("complete");
  const i = oa.requests.findIndex((q) => q.status === 429);
  expect(i).toBe(1);
  const throttledAt = oa.requests[i]?.at as number;
  const next = oa.requests[i + 1]?.at as number;
  expect(next - throttledAt).toBeGreaterThanOrEqual(1000);
  expect(jobIds()).toHaveLength(450);
});

test('403 "too fast" is back-pressure: the host cools down, the pull goes on and is not failed', async () => {
  const { oa, deps } = await setup({ works: 300, tooFast: { page: 2 } });
  const r = await runPull(deps, { query: QUERY });
  expect(r.end).toBe("complete");
  expect(oa.requests.map((q) => q.status)).toEqual([200, 403, 200, 200]);
  const row = db
    .query<{ c: number }, [string]>("SELECT cooldown_until AS c FROM host_state WHERE host = ?")
    .get(new URL(oa.baseUrl).host);
  expect(row?.c ?? 0).toBeGreaterThan(0);
});

test("a refused key fails the pull with a message that names the fix and not the key; a rerun retries it", async () => {
  const { deps } = await setup({ works: 10, key: null });
  const r = await runPull(deps, { query: QUERY });
  expect(r.end).toBe("failed");
  if (r.end === "failed") expect(r.message).toContain("OPENALEX_API_KEY");
  expect(listPulls(db)[0]).toMatchObject({ state: "failed" });
  const again = await runPull({ ...deps, apiKey: "secret-key-123" }, { query: QUERY });
  expect(again.end).toBe("complete");
  expect(JSON.stringify(listPulls(db))).not.toContain("secret-key-123");
});

test("a bad select or filter answer (400) is reported without the API key", async () => {
  const { deps } = await setup({ works: 10 });
  const http = deps.http;
  const r = await runPull(
    {
      ...deps,
      apiKey: "secret-key-123",
      http: { request: (req) => http.request({ ...req, url: req.url.replace("select=id", "select=nope") }) },
    },
    { query: QUERY },
  );
  expect(r.end).toBe("failed");
  if (r.end === "failed") {
    expect(r.message).toContain("HTTP 400");
    expect(r.message).not.toContain("secret-key-123");
  }
});

test("a dry run reports count, pages and cost, queues nothing, and accounts for a pull under way", async () => {
  const { oa, deps } = await setup({ works: 1234 });
  const d = await dryRunPull(deps, QUERY);
  expect(d.estimate).toEqual({ count: 1234, pages: 8, costUsd: 0.0008 });
  expect(oa.requests[0]?.params.get("per-page")).toBe("1");
  expect(jobIds()).toHaveLength(0);
  expect(listPulls(db)).toHaveLength(0);
  await runPull(deps, { query: QUERY, max: 400 });
  const later = await dryRunPull(deps, QUERY);
  expect(later.estimate.pages).toBe(6);
  expect(later.pull?.works).toBe(400);
});

test("a dry run without a key is a request error, not a crash", async () => {
  const { deps } = await setup({ works: 10, key: null });
  const e = await dryRunPull(deps, QUERY).catch((x) => x);
  expect(e).toBeInstanceOf(OpenAlexRequestError);
  expect((e as OpenAlexRequestError).transient).toBe(false);
});
