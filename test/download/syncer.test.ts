import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { createDiskSyncer, type DiskSyncer, poolSyncer } from "../../src/download/syncer.ts";
import { makeLibrary } from "./harness.ts";

let dir: string;
let syncer: DiskSyncer;
beforeEach(() => {
  dir = makeLibrary();
  syncer = createDiskSyncer(2);
});
afterEach(() => {
  syncer.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("flushes a file and a directory on its threads", async () => {
  const fd = fs.openSync(join(dir, "f"), "w");
  try {
    fs.writeSync(fd, "bytes");
    await syncer.fdatasync(fd);
  } finally {
    fs.closeSync(fd);
  }
  await syncer.fsyncDir(dir);
  expect(syncer.stats()).toEqual({ files: 1, dirs: 1 });
});

test("a failing flush rejects with the platform's error code, and the thread stays usable", async () => {
  await expect(syncer.fsyncDir(join(dir, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
  const closedFd = fs.openSync(join(dir, "g"), "w");
  fs.closeSync(closedFd);
  await expect(syncer.fdatasync(closedFd)).rejects.toMatchObject({ code: "EBADF" });
  await syncer.fsyncDir(dir);
});

test("callers arriving during a directory flush share the next one, which starts after them", async () => {
  const first = syncer.fsyncDir(dir);
  // These arrive while the first flush may already be running: it might not cover their changes.
  const later = Array.from({ length: 6 }, () => syncer.fsyncDir(dir));
  await Promise.all([first, ...later]);
  expect(syncer.stats().dirs).toBe(2);
  // Once idle, a new caller gets a flush of its own.
  await syncer.fsyncDir(dir);
  expect(syncer.stats().dirs).toBe(3);
});

test("a failed shared flush fails every caller that joined it", async () => {
  const missing = join(dir, "gone");
  fs.mkdirSync(missing);
  const first = syncer.fsyncDir(missing);
  const joined = [syncer.fsyncDir(missing), syncer.fsyncDir(missing)];
  fs.rmdirSync(missing); // before the second flush opens it
  const code = (p: Promise<void>) =>
    p.then(
      () => "ok",
      (e: NodeJS.ErrnoException) => e.code,
    );
  await first.catch(() => {}); // raced the removal: either outcome is fine for the first
  expect(await Promise.all(joined.map(code))).toEqual(["ENOENT", "ENOENT"]);
});

test("after close, flushes still happen (on the shared pool)", async () => {
  syncer.close();
  await syncer.fsyncDir(dir);
  await poolSyncer.fsyncDir(dir);
  expect(syncer.stats().dirs).toBe(0);
});
