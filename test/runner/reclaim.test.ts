// The runner registry and crash reclaim: the boot id (kernel, else a RuntimeDirectory marker), a
// process's start time, whether a registered runner is gone, and what its successor takes back.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ProcessIdentity, processGone, readBootId, readProcStart } from "../../src/runner/identity.ts";
import { reclaimAndRegister } from "../../src/runner/reclaim.ts";
import { openDatabase } from "../../src/store/db.ts";
import { listRunners, sqliteRunnerRegistry } from "../../src/store/runners.ts";
import { emptyDir } from "../support/binary.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = emptyDir("docstokg-reclaim-");
  dirs.push(d);
  return d;
}

describe("process identity", () => {
  test("the kernel's boot id when readable; else one marker per runtime directory, stable across readers", () => {
    const d = tmp();
    writeFileSync(join(d, "boot_id"), "abc-123\n");
    expect(readBootId({}, join(d, "boot_id"))).toBe("abc-123");
    const runtime = join(d, "run");
    mkdirSync(runtime);
    const hidden = join(d, "hidden"); // as under ProcSubset=pid
    const first = readBootId({ RUNTIME_DIRECTORY: `${runtime}:/elsewhere` }, hidden);
    expect(first).toMatch(/^runtime:[0-9a-f-]{36}$/);
    expect(readBootId({ RUNTIME_DIRECTORY: runtime }, hidden)).toBe(first);
    expect(readBootId({}, hidden)).toBeNull();
  });

  test("a live process is not gone; an exited one is; a reused pid with another start time is", async () => {
    const self = readProcStart("self");
    expect(self).toMatch(/^\d+$/);
    expect(processGone(process.pid, self)).toBe(false);
    expect(processGone(process.pid, "1")).toBe(true);
    const child = Bun.spawn(["true"]);
    await child.exited;
    expect(processGone(child.pid, null)).toBe(true);
  });
});

describe("reclaimAndRegister", () => {
  const register = (
    db: ReturnType<typeof openDatabase>,
    now: number,
    identity: ProcessIdentity,
    gone: (pid: number) => boolean,
  ) =>
    reclaimAndRegister({
      registry: sqliteRunnerRegistry(db),
      id: "new",
      host: "m1",
      version: "t",
      identity,
      now,
      gone,
    });

  async function state() {
    const db = openDatabase(join(tmp(), "queue.db"));
    const now = 1_700_000_000_000;
    const insert = db.query(
      `INSERT INTO jobs (artifact_id, artifact, state, available_at, lease_token, lease_owner, lease_expires_at, created_at, updated_at)
       VALUES (?1, '{}', 'in_progress', 0, ?1, ?2, ?3, 0, 0)`,
    );
    for (let i = 0; i < 3; i++) insert.run(`dead-${i}`, "dead", now + 120_000);
    insert.run("other-boot", "far", now + 120_000);
    insert.run("alive", "alive", now + 120_000);
    db.query(
      "INSERT INTO host_slot (host, token, owner, expires_at) VALUES ('h', 't1', 'dead', ?), ('h', 't2', 'alive', ?)",
    ).run(now + 60_000, now + 60_000);
    const reg = (id: string, boot: string, pid: number) =>
      reclaimAndRegister({
        registry: sqliteRunnerRegistry(db),
        id,
        host: "m1",
        version: "t",
        identity: { bootId: boot, pid, procStart: "1" },
        now,
        gone: () => false,
      });
    await reg("dead", "boot-1", 101);
    await reg("alive", "boot-1", 102);
    await reg("far", "boot-0", 103);
    return { db, now };
  }

  test("takes back the leases and host slots of dead runners of the same machine and boot only", async () => {
    const { db, now } = await state();
    const r = await register(
      db,
      now,
      { bootId: "boot-1", pid: 200, procStart: "5" },
      (pid) => pid === 101 || pid === 103,
    );
    expect(r).toEqual({ runners: [{ id: "dead", pid: 101 }], jobs: 3 });
    const due = db
      .query<{ a: string }, [number]>(
        "SELECT artifact_id AS a FROM jobs WHERE lease_expires_at <= ? ORDER BY a",
      )
      .all(now)
      .map((x) => x.a);
    expect(due).toEqual(["dead-0", "dead-1", "dead-2"]);
    expect(db.query<{ owner: string }, []>("SELECT owner FROM host_slot").all()).toEqual([
      { owner: "alive" },
    ]);
    // The runner of another boot keeps its row and leases (its machine may be another one's twin).
    expect(
      listRunners(db)
        .map((x) => x.id)
        .sort(),
    ).toEqual(["alive", "far", "new"]);
  });

  test("without a boot id nothing is reclaimed early; the runner still registers", async () => {
    const { db, now } = await state();
    const r = await register(db, now, { bootId: null, pid: 200, procStart: null }, () => true);
    expect(r.jobs).toBe(0);
    expect(listRunners(db).find((x) => x.id === "new")?.boot_id).toBeNull();
  });
});
