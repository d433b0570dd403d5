// The commands that only read (serve, report, queue stats/list/show, manifest export) against the
// built binary on a state directory that cannot be written: a read-only bind mount in a private
// mount namespace (`unshare -m`), or, where that is not allowed, immutable files (`chattr +i`).
// Tests run as root, for whom a chmod'ed directory is still writable, so neither is a chmod.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../src/store/db.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { builtBinary, emptyDir, runBinary } from "../support/binary.ts";
import { buildSmallLibrary, type SmallLibrary } from "../support/small-library.ts";
import { type SimWeb, startWeb } from "../support/web.ts";

let web: SimWeb;
let dir: string;
let lib: SmallLibrary;
let binary: string;

/** How this machine can make a directory read-only for root, or null when it cannot. */
function readOnlyMethod(): "unshare" | "chattr" | null {
  const probe = emptyDir("docstokg-ro-probe-");
  try {
    const u = Bun.spawnSync([
      "unshare",
      "-m",
      "sh",
      "-c",
      `mount --bind ${probe} ${probe} && mount -o remount,bind,ro ${probe} && ! touch ${probe}/x 2>/dev/null`,
    ]);
    if (u.exitCode === 0) return "unshare";
    const c = Bun.spawnSync(["chattr", "+i", probe]);
    if (c.exitCode === 0) {
      Bun.spawnSync(["chattr", "-i", probe]);
      return "chattr";
    }
    return null;
  } catch {
    return null;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const method = readOnlyMethod();

/** The command line that runs `args` with `stateDir` read-only. */
function readOnly(stateDir: string, args: string[]): string[] {
  if (method === "unshare") {
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    return [
      "unshare",
      "-m",
      "sh",
      "-c",
      `mount --bind ${q(stateDir)} ${q(stateDir)} && mount -o remount,bind,ro ${q(stateDir)} && exec ${args.map(q).join(" ")}`,
    ];
  }
  return args;
}

function snapshot(stateDir: string): string[] {
  return readdirSync(stateDir)
    .sort()
    .map((f) => {
      const st = statSync(join(stateDir, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    });
}

beforeAll(async () => {
  web = await startWeb();
  dir = emptyDir("docstokg-ro-state-");
  lib = await buildSmallLibrary(web, dir, 3);
  binary = await builtBinary();
}, 120_000);

afterAll(async () => {
  if (method === "chattr") Bun.spawnSync(["chattr", "-R", "-i", lib.stateDir]);
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(readOnly(lib.stateDir, [binary, ...args, "--config", lib.configFile]), {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, stdout, stderr };
}

describe.skipIf(method === null)("a read-only state directory", () => {
  test("report, queue stats/list/show and manifest export read it; nothing in it changes", async () => {
    if (method === "chattr") Bun.spawnSync(["chattr", "-R", "+i", lib.stateDir]);
    const before = snapshot(lib.stateDir);
    try {
      // Writing is really refused here (the method works), and so is a writing command.
      const write = await run(["queue", "pause"]);
      expect(write.code).not.toBe(0);

      const stats = await run(["queue", "stats", "--json"]);
      expect(stats.code, stats.stderr).toBe(0);
      expect(JSON.parse(stats.stdout).counts.done).toBe(3);
      const list = await run(["queue", "list", "--json"]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout.trim().split("\n")).toHaveLength(3);
      const show = await run(["queue", "show", `url:${lib.urls[0]}`, "--json"]);
      expect(show.code, show.stderr).toBe(0);
      expect(JSON.parse(show.stdout).outcomes.map((o: { reason: string }) => o.reason)).toEqual(["ok"]);
      const report = await run(["report", "--json", "--verify"]);
      expect(report.code, report.stderr).toBe(0);
      expect(JSON.parse(report.stdout).verify).toMatchObject({ files: 3, ok: 3 });
      const csv = await run(["manifest", "export", "--format", "csv"]);
      expect(csv.code, csv.stderr).toBe(0);
      expect(csv.stdout.trim().split("\r\n")).toHaveLength(4);
    } finally {
      if (method === "chattr") Bun.spawnSync(["chattr", "-R", "-i", lib.stateDir]);
    }
    expect(snapshot(lib.stateDir)).toEqual(before);
  }, 60_000);

  test("serve answers from it", async () => {
    if (method === "chattr") Bun.spawnSync(["chattr", "-R", "+i", lib.stateDir]);
    const proc = Bun.spawn(
      readOnly(lib.stateDir, [
        binary,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
        "--config",
        lib.configFile,
      ]),
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
        stdout: "ignore",
        stderr: "pipe",
      },
    );
    try {
      const reader = proc.stderr.getReader();
      let text = "";
      let url: string | undefined;
      while (!url) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`serve exited:\n${text}`);
        text += new TextDecoder().decode(value);
        url = /"url":"(http:\/\/[^"]+)"/.exec(text)?.[1];
      }
      const stats = (await (await fetch(new URL("/api/stats", url))).json()) as { counts: { done: number } };
      expect(stats.counts.done).toBe(3);
      expect((await fetch(new URL("/readyz", url))).status).toBe(200);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      if (method === "chattr") Bun.spawnSync(["chattr", "-R", "-i", lib.stateDir]);
    }
  }, 60_000);
});

describe("a database the reading commands cannot use", () => {
  test("missing: exit 1 naming the directory; older than the binary: exit 1 saying how to upgrade it", async () => {
    const other = emptyDir("docstokg-ro-old-");
    try {
      const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: other };
      const stateDir = join(other, "state");
      let r = await runBinary(["queue", "stats", "--state-dir", stateDir], { cwd: other, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`no queue database in ${stateDir}`);
      openDatabase(join(stateDir, "queue.db"), { migrations: MIGRATIONS.slice(0, -1) }).close();
      for (const words of [["queue", "stats"], ["report"], ["manifest", "export"]]) {
        r = await runBinary([...words, "--state-dir", stateDir], { cwd: other, env });
        expect(r.code, words.join(" ")).toBe(1);
        expect(r.stderr).toContain(
          `schema version ${MIGRATIONS.length - 1}, older than this docstokg's ${MIGRATIONS.length}`,
        );
      }
      // A command that writes upgrades it; then the readers work.
      expect((await runBinary(["queue", "resume", "--state-dir", stateDir], { cwd: other, env })).code).toBe(
        0,
      );
      expect((await runBinary(["queue", "stats", "--state-dir", stateDir], { cwd: other, env })).code).toBe(
        0,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 60_000);
});
