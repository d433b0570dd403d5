// `docstokg serve` end to end: the built binary serving a seeded state directory read-only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/schema.ts";
import { announcedUrl } from "../support/announced-url.ts";
import { builtBinary, emptyDir, runBinary } from "../support/binary.ts";
import { statusFixture } from "../support/status-fixture.ts";

let dir: string;
let binary: string;

beforeAll(async () => {
  dir = emptyDir("docstokg-serve-");
  const fx = await statusFixture(defaultConfig(), join(dir, "state", "queue.db"), Date.now());
  fx.db.close();
  binary = await builtBinary();
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("docstokg serve", () => {
  test("serves the state directory and stops cleanly on SIGTERM; with status.token the controls work", async () => {
    const proc = Bun.spawn(
      [binary, "serve", "--state-dir", join(dir, "state"), "--listen", "127.0.0.1:0", "--log-format", "json"],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, DOCSTOKG_STATUS__TOKEN: "tok-123456" },
        stdout: "ignore",
        stderr: "pipe",
      },
    );
    try {
      const { url, rest } = await announcedUrl(proc.stderr);
      const get = (path: string) => fetch(new URL(path, url));
      expect((await get("/healthz")).status).toBe(200);
      expect((await get("/readyz")).status).toBe(200);
      const stats = (await (await get("/api/stats")).json()) as { counts: Record<string, number> };
      expect(stats.counts).toEqual({ queued: 5, in_progress: 2, done: 10, skipped: 1, error: 4 });
      const errors = (await (await get("/api/jobs?state=error")).json()) as { jobs: unknown[] };
      expect(errors.jobs).toHaveLength(4);
      expect((await get("/api/jobs?limit=abc")).status).toBe(400);
      expect((await get("/api/jobs/424242")).status).toBe(404);
      const hosts = (await (await get("/api/hosts")).json()) as { hosts: { host: string }[] };
      expect(hosts.hosts.map((h) => h.host).sort()).toEqual(["arxiv.org", "slow.example"]);
      const metrics = await (await get("/metrics")).text();
      expect(metrics).toContain('docstokg_jobs{state="done"} 10\n');
      const page = await (await get("/")).text();
      expect(page).toContain("serve · with controls");
      expect(page).toContain('data-controls="1"');

      const pause = await fetch(new URL("/api/pause", url), {
        method: "POST",
        headers: { Authorization: "Bearer tok-123456" },
      });
      expect(pause.status).toBe(200);
      expect(((await (await get("/api/stats")).json()) as { paused: boolean }).paused).toBe(true);
      const resume = await fetch(new URL("/api/resume", url), {
        method: "POST",
        headers: { Authorization: "Bearer tok-123456" },
      });
      expect(resume.status).toBe(200);

      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(await rest()).toContain("stopped on SIGTERM");
    } finally {
      proc.kill("SIGKILL");
    }
  }, 30_000);

  test("without a token it is read-only: controls are 403 and the database is opened read-only", async () => {
    const proc = Bun.spawn(
      [binary, "serve", "--state-dir", join(dir, "state"), "--listen", "127.0.0.1:0", "--log-format", "json"],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
        stdout: "ignore",
        stderr: "pipe",
      },
    );
    try {
      const { url, rest } = await announcedUrl(proc.stderr);
      const pause = await fetch(new URL("/api/pause", url), {
        method: "POST",
        headers: { Authorization: "Bearer anything" },
      });
      expect(pause.status).toBe(403);
      const stats = (await (await fetch(new URL("/api/stats", url))).json()) as {
        paused: boolean;
        mode: string;
      };
      expect(stats).toMatchObject({ paused: false, mode: "read_only" });
      expect(await (await fetch(url)).text()).toContain("serve · read-only");
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(await rest()).toContain("status endpoint (read-only)");
    } finally {
      proc.kill("SIGKILL");
    }
  }, 30_000);

  test("refuses a non-loopback address without a token (exit 2, one clear line)", async () => {
    const r = await runBinary(["serve", "--state-dir", join(dir, "state"), "--listen", "0.0.0.0:0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("refusing to serve the status endpoint on non-loopback address 0.0.0.0:0");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }, 30_000);

  test("a state directory without a queue database is a usage error", async () => {
    const r = await runBinary(["serve", "--state-dir", join(dir, "missing"), "--listen", "127.0.0.1:0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no queue database at");
  }, 30_000);

  test("a malformed --listen is a usage error naming the flag", async () => {
    const r = await runBinary(["serve", "--state-dir", join(dir, "state"), "--listen", "nonsense"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--listen/);
  }, 30_000);
});
