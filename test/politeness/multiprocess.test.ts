// Three real processes share one database file and hammer the gate: the hosts must see no window
// with more than burst + rate × t requests, and never more concurrent requests than the host limit.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SimHost, startWeb } from "../support/web.ts";
import { openPolitenessDb } from "./db.ts";
import { accuracyJob, type HammerJob, type HammerResult } from "./hammer.ts";
import { windowShortfallMs } from "./windows.ts";

// Arrivals are stamped by the server, so they carry the senders' scheduling jitter: a process that
// stalls between its permit and its packet (tens of ms on a loaded 2-core machine) lands closer to
// the next request than its reservation was. A budget that was not shared overshoots by seconds.
const JITTER_MS = 100;
const dir = mkdtempSync(join(tmpdir(), "politeness-mp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("3 processes on one database obey one rate budget and one concurrency limit per host", async () => {
  await using web = await startWeb();
  const paced = await web.host({ name: "paced.test" }); // rate-bound: 20/s, burst 3
  const narrow = await web.host({ name: "narrow.test" }); // concurrency-bound: 2 at once
  paced.pdf("/a.pdf").fault("/a.pdf", { kind: "delay", ms: 20 });
  narrow.pdf("/b.pdf").fault("/b.pdf", { kind: "delay", ms: 100 });
  const key = (h: SimHost) => `${h.address}:${h.port}`;

  const dbPath = join(dir, "state.db");
  openPolitenessDb(dbPath).close();
  const durationMs = 2000;
  const startAt = Date.now() + 1200; // time for the children to start
  const job: HammerJob = accuracyJob(
    dbPath,
    {
      paced: { host: key(paced), url: paced.url("/a.pdf") },
      narrow: { host: key(narrow), url: narrow.url("/b.pdf") },
    },
    startAt,
    durationMs,
  );
  const children = [1, 2, 3].map(() =>
    Bun.spawn([process.execPath, join(import.meta.dir, "hammer.ts")], {
      env: { ...process.env, HAMMER_JOB: JSON.stringify(job) },
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  const results = (await Promise.all(
    children.map(async (c) => {
      expect(await c.exited).toBe(0);
      return JSON.parse(await new Response(c.stdout).text()) as HammerResult;
    }),
  )) as HammerResult[];

  // slots are handed out in arrival order across processes: none is starved
  for (const r of results) expect(r.sent).toBeGreaterThan(10);
  expect(results.reduce((n, r) => n + r.errors, 0)).toBe(0);

  const pacedAt = paced.requests.map((r) => r.at);
  const narrowAt = narrow.requests.map((r) => r.at);
  const pacedShortfall = windowShortfallMs(pacedAt, 50, 3);
  const narrowShortfall = windowShortfallMs(narrowAt, 20, 1);
  console.log(
    `3 processes, ${durationMs} ms: paced ${pacedAt.length} requests, window shortfall ${pacedShortfall.toFixed(1)} ms, ` +
      `max concurrency ${paced.maxConcurrency()}; narrow ${narrowAt.length} requests, window shortfall ` +
      `${narrowShortfall.toFixed(1)} ms, max concurrency ${narrow.maxConcurrency()}; per process ${results.map((r) => r.sent).join("/")}`,
  );
  // 20/s for 2 s plus a burst of 3: about 43; far fewer would mean the gate starves the host
  expect(pacedAt.length).toBeGreaterThanOrEqual(30);
  expect(pacedAt.length).toBeLessThanOrEqual(3 + 20 * (durationMs / 1000) + 1);
  expect(pacedShortfall).toBeLessThanOrEqual(JITTER_MS);
  expect(paced.maxConcurrency()).toBeLessThanOrEqual(4);

  expect(narrow.maxConcurrency()).toBeLessThanOrEqual(2);
  expect(narrow.maxConcurrency()).toBe(2); // the limit was actually reached, so it was tested
  expect(narrowAt.length).toBeGreaterThanOrEqual(20); // ~2 per 100 ms for 2 s
  expect(narrowShortfall).toBeLessThanOrEqual(JITTER_MS);
}, 15_000);
