// A full disk under the library: the built runner's download meets ENOSPC on a 2 MB tmpfs, logs it
// plainly, releases the job without counting an attempt, stops leasing (handing back what it had
// leased), and resumes by itself once space returns; afterwards every job is done after exactly one
// counted attempt and the library verifies clean. Plus the pure parts: the gate and the commit rule.
// Mounting needs root (CAP_SYS_ADMIN); without it the tmpfs test is skipped with a loud message.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DiskSpaceGate, isDiskFullError, spaceVerdict } from "../../src/download/disk-space.ts";
import { decideCommit } from "../../src/runner/decide.ts";
import { runBinary } from "../support/binary.ts";
import { makePdf } from "../support/pdf.ts";
import { tempDir } from "../support/temp.ts";
import { bytesResponse, type SimWeb, startWeb } from "../support/web.ts";
import { openState, spawnRunner } from "./harness.ts";

describe("the disk-space gate", () => {
  test("verdict: at or above the floor is fine; after ENOSPC the floor rises by what was free then", () => {
    expect(spaceVerdict(100, 100, undefined)).toBe(true);
    expect(spaceVerdict(99, 100, undefined)).toBe(false);
    // 300 free right after the ENOSPC: space is back at 300 + 100, not before.
    expect(spaceVerdict(399, 100, 300)).toBe(false);
    expect(spaceVerdict(400, 100, 300)).toBe(true);
    // An unknown measure keeps the last word.
    expect(spaceVerdict(null, 100, undefined)).toBe(true);
    expect(spaceVerdict(null, 100, 300)).toBe(false);
    expect(spaceVerdict(null, 100, null)).toBe(false);
  });

  test("ENOSPC closes it at once; it reopens when a measurement finds the space back", () => {
    let t = 0;
    let free = 1000;
    const changes: string[] = [];
    const gate = new DiskSpaceGate({
      dir: "/library",
      minFreeBytes: 100,
      checkEveryMs: 50,
      now: () => t,
      measure: () => free,
      onChange: (v) => changes.push(`${v.reason}:${v.freeBytes}`),
    });
    expect(gate.ready()).toBe(true);
    free = 300; // what a download left before it met ENOSPC
    gate.reportFull();
    expect(gate.ready()).toBe(false); // no new measurement within checkEveryMs
    t = 60;
    expect(gate.ready()).toBe(false); // measured: 300 is above the floor but nothing came back
    free = 5000;
    t = 100;
    expect(gate.ready()).toBe(false); // too soon after the last measurement
    t = 111;
    expect(gate.ready()).toBe(true);
    free = 10;
    t = 200;
    expect(gate.ready()).toBe(false); // low without any ENOSPC
    free = 100;
    t = 300;
    expect(gate.ready()).toBe(true); // and back at the plain floor
    expect(changes).toEqual(["full:300", "recovered:5000", "low:10", "recovered:100"]);
  });

  test("ENOSPC and EDQUOT are disk-full errors; others are not", () => {
    expect(isDiskFullError(Object.assign(new Error("x"), { code: "ENOSPC" }))).toBe(true);
    expect(isDiskFullError(Object.assign(new Error("x"), { code: "EDQUOT" }))).toBe(true);
    expect(isDiskFullError(Object.assign(new Error("x"), { code: "EIO" }))).toBe(false);
    expect(isDiskFullError(null)).toBe(false);
  });

  test("a disk_full step is released (no attempt counted), not failed", () => {
    const attempts = [{ reason: "disk_full", host: "h" }];
    const c = decideCommit(
      {
        ok: false,
        reason: "disk_full",
        transient: true,
        message: "no space",
        retryAt: 1234,
        deferred: false,
        attempts,
        progress: { p: 1 },
      },
      undefined,
    );
    expect(c).toEqual({ kind: "release", until: 1234, attempts, progress: { p: 1 } });
  });
});

// ---------------------------------------------------------------------------------------------
// The real thing on a real full filesystem.

const root = tempDir("disk-full");
const mountPoint = join(root, "small");
mkdirSync(mountPoint);
const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint], {
  stderr: "pipe",
});
const mounted = mount.exitCode === 0;
if (!mounted) {
  console.warn(
    `\n*** SKIPPING the disk-full test on a 2 MB tmpfs: mount is not permitted here (${mount.stderr.toString().trim()}). Run the tests as root to cover it. ***\n`,
  );
}

let web: SimWeb | undefined;
beforeAll(async () => {
  if (mounted) web = await startWeb();
});
afterAll(async () => {
  await web?.stop();
  if (mounted) Bun.spawnSync(["umount", mountPoint]);
  rmSync(root, { recursive: true, force: true });
});

const WORKS = 4;
const PDF_BYTES = 300_000;

describe.skipIf(!mounted)("queue run on a full disk (2 MB tmpfs)", () => {
  test("released without an attempt, leasing paused, resumed when space returns, library consistent", async () => {
    const host = await (web as SimWeb).host();
    const works: string[] = [];
    for (let i = 1; i <= WORKS; i++) {
      const pdf = makePdf(`disk full work ${i}`, { minBytes: PDF_BYTES });
      host.route(`/w${i}.pdf`, () => bytesResponse(pdf, { "content-type": "application/pdf" }));
      works.push(JSON.stringify({ doi: `10.5555/disk${i}`, pdf_urls: [host.url(`/w${i}.pdf`)] }));
    }
    const dir = join(root, "run");
    mkdirSync(dir);
    const stateDir = join(dir, "state");
    const outDir = join(mountPoint, "library");
    const config = join(dir, "docstokg.json");
    writeFileSync(
      config,
      JSON.stringify({
        state_dir: stateDir,
        out_dir: outDir,
        network: { allow_private: ["127.0.0.0/8"] },
        resolvers: { tiers: [["direct"]] },
        status: { enabled: false },
        queue: { heartbeat_s: 1 },
        orchestrator: {
          max_workers: 1,
          poll_interval_s: 0.05,
          disk_check_s: 0.2,
          min_free_bytes: 64 * 1024,
          drain_max_delay_s: 30,
        },
      }),
    );
    writeFileSync(join(dir, "works.jsonl"), `${works.join("\n")}\n`);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
    const imported = await runBinary(["queue", "import", "works.jsonl", "--config", config], {
      cwd: dir,
      env,
    });
    expect(imported.code).toBe(0);

    // Leave ~160 KB free: above the 64 KB floor, so the runner leases, but too little for a 300 KB PDF.
    mkdirSync(outDir, { recursive: true });
    const free = () => {
      const s = statfsSync(mountPoint);
      return s.bavail * s.bsize;
    };
    const ballast = join(mountPoint, "ballast");
    writeFileSync(ballast, Buffer.alloc(free() - 160 * 1024));
    expect(free()).toBeGreaterThan(64 * 1024);
    expect(free()).toBeLessThan(PDF_BYTES);

    const runner = await spawnRunner(
      ["queue", "run", "--drain", "--config", config, "--log-format", "json"],
      {
        cwd: dir,
        env,
      },
    );
    try {
      await runner.waitFor(/disk full: a download into .* no space left on the device/, 20_000);
      // The job that met ENOSPC goes back uncounted; what else was leased is handed back too.
      const db = openState(stateDir);
      try {
        let rows: { state: string; attempts: number }[] = [];
        for (let i = 0; i < 100; i++) {
          rows = db.query<{ state: string; attempts: number }, []>("SELECT state, attempts FROM jobs").all();
          if (rows.every((r) => r.state === "queued")) break;
          await Bun.sleep(50);
        }
        expect(rows).toEqual(Array.from({ length: WORKS }, () => ({ state: "queued", attempts: 0 })));
        const tries = db
          .query<{ reason: string; n: number }, []>(
            "SELECT reason, count(*) AS n FROM attempts GROUP BY reason",
          )
          .all();
        expect(tries).toEqual([{ reason: "disk_full", n: 1 }]);
        expect(db.query("SELECT count(*) AS n FROM outcomes").get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
      // Nothing half-written is left behind: no library file, no temp file.
      expect(readdirSync(outDir).filter((f) => f !== ".tmp")).toEqual([]);
      expect(readdirSync(join(outDir, ".tmp")).filter((f) => !f.endsWith(".lock"))).toEqual([]);
      // Paused, not spinning: while the disk stays full no further request is made.
      const hits = host.requests.length;
      await Bun.sleep(600);
      expect(host.requests.length).toBe(hits);

      rmSync(ballast);
      await runner.waitFor(/disk space back: .* leasing resumed/, 10_000);
      expect(await runner.exited).toBe(0);
    } finally {
      runner.proc.kill("SIGKILL");
    }

    const db = openState(stateDir);
    try {
      const rows = db
        .query<{ state: string; attempts: number }, []>("SELECT state, attempts FROM jobs")
        .all();
      expect(rows).toEqual(Array.from({ length: WORKS }, () => ({ state: "done", attempts: 1 })));
    } finally {
      db.close();
    }
    const report = await runBinary(["report", "--verify", "--json", "--config", config], { cwd: dir, env });
    expect(report.code).toBe(0);
    const r = JSON.parse(report.stdout);
    // One content-addressed copy per work (the runner records that path, relative to the library).
    expect(r.verify).toMatchObject({ files: WORKS, ok: WORKS, missing: 0, corrupt: 0 });
    expect(r.objectives[0]).toMatchObject({ name: "corruption", status: "met" });
    expect(readdirSync(join(outDir, ".tmp")).filter((f) => !f.endsWith(".lock"))).toEqual([]);
  }, 60_000);
});
