// The status page in a real browser: `docstokg serve` (the built binary, with a token) over a state
// with done, failed, skipped and queued jobs, driven in headless Chromium by browser.node.mjs under
// Node (playwright-core is not at home under Bun). With CI=true a missing Chromium or Node fails the
// test; elsewhere it is skipped with a message saying what to install.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/schema.ts";
import { announcedUrl } from "../support/announced-url.ts";
import { builtBinary, emptyDir } from "../support/binary.ts";
import { statusFixture } from "../support/status-fixture.ts";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const TOKEN = "browser-test-token-0123";
const node = Bun.which("node");
const missing = [
  existsSync(CHROMIUM) ? null : `${CHROMIUM} (apt-get install chromium)`,
  node ? null : "node",
  existsSync(join(import.meta.dir, "../../node_modules/playwright-core")) ? null : "playwright-core (npm ci)",
].filter((m): m is string => m !== null);
const inCi = process.env.CI === "true";

let dir: string;

beforeAll(async () => {
  if (missing.length > 0 && !inCi) return;
  dir = emptyDir("docstokg-browser-");
  const now = Date.now();
  const fx = await statusFixture(defaultConfig(), join(dir, "state", "queue.db"), now);
  // One more failure, with attempts over two tiers and saved progress: the job the browser opens.
  const [job] = await fx.queue.lease("browser-fixture", 1);
  if (!job) throw new Error("the fixture has no queued job left to fail");
  const progress = {
    version: 1,
    resolvers: {
      crossref: { state: "settled", found: 1 },
      unpaywall: { state: "settled", found: 1 },
    },
    candidates: [
      {
        key: "a",
        url: "https://pdfs.example/a.pdf",
        kind: "pdf",
        resolver: "crossref",
        tier: 1,
        state: "failed",
        reason: "http_404",
        depth: 0,
        provenance: { via: "crossref" },
      },
      {
        key: "b",
        url: "https://pdfs.example/b.pdf",
        kind: "pdf",
        resolver: "unpaywall",
        tier: 2,
        state: "failed",
        reason: "http_404",
        depth: 0,
        provenance: {},
      },
    ],
    derived: {},
  };
  await fx.queue.saveProgress(job.id, job.token, progress);
  await fx.queue.fail(job.id, job.token, {
    reason: "http_404",
    transient: false,
    attempts: [
      {
        resolver: "crossref",
        tier: 1,
        url: "https://pdfs.example/a.pdf?token=SECRETKEY",
        host: "pdfs.example",
        httpStatus: 404,
        reason: "http_404",
        elapsedMs: 120,
      },
      {
        resolver: "unpaywall",
        tier: 2,
        url: "https://pdfs.example/b.pdf",
        host: "pdfs.example",
        httpStatus: 404,
        reason: "http_404",
        elapsedMs: 80,
      },
    ],
  });
  fx.db.close();
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("status page in Chromium", () => {
  test("failures, a job's attempts, filters kept across reload, pause with the token, no console errors", async () => {
    if (missing.length > 0) {
      // In CI this is a failure: the browser test must run there.
      if (inCi) throw new Error(`the browser test needs ${missing.join(", ")}`);
      console.warn(`skipping the browser test: missing ${missing.join(", ")}`);
      return;
    }
    const binary = await builtBinary();
    const serve = Bun.spawn(
      [binary, "serve", "--state-dir", join(dir, "state"), "--listen", "127.0.0.1:0", "--log-format", "json"],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, DOCSTOKG_STATUS__TOKEN: TOKEN },
        stdout: "ignore",
        stderr: "pipe",
      },
    );
    try {
      const { url } = await announcedUrl(serve.stderr);
      const driver = Bun.spawn([node as string, join(import.meta.dir, "browser.node.mjs"), url, TOKEN], {
        cwd: join(import.meta.dir, "../.."),
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, CHROMIUM_PATH: CHROMIUM },
        stdout: "pipe",
        stderr: "pipe",
      });
      const killer = setTimeout(() => driver.kill("SIGKILL"), 90_000);
      const [code, out, err] = await Promise.all([
        driver.exited,
        new Response(driver.stdout).text(),
        new Response(driver.stderr).text(),
      ]);
      clearTimeout(killer);
      expect(`${out}${err}`.trim()).toBe("browser: all steps passed");
      expect(code).toBe(0);
    } finally {
      serve.kill("SIGKILL");
    }
  }, 150_000);
});
