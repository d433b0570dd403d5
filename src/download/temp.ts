// Temp files of downloads in flight, in `<out>/.tmp/` (same filesystem as the library, so publishing
// is a link, not a copy). A URL's resumable slot is named after a hash of its canonical URL, claimed
// by an exclusive lock file, and described by a sidecar (validators, expected length) so that an
// attempt killed mid-download can be continued by the next one with a Range request.
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const TEMP_DIR = ".tmp";

export interface TempSlot {
  /** The file the body is written to. */
  part: string;
  /** Sidecar JSON describing the partial body (only for the resumable slot). */
  sidecar?: string;
  /** Lock held while this process writes the slot (only for the resumable slot). */
  lock?: string;
}

/** What the sidecar records about a partial body, enough to ask the server for the rest. */
export interface PartialInfo {
  url: string;
  etag?: string;
  lastModified?: string;
  /** Full length announced by the server, when it did. */
  total?: number;
}

export function tempDir(outDir: string): string {
  return join(outDir, TEMP_DIR);
}

export function urlKey(url: string): string {
  return createHash("sha256").update(url).digest("hex").slice(0, 32);
}

/**
 * Claims the URL's resumable slot, or, when another live download holds it (same URL in two jobs),
 * a private throwaway temp file so the two never write into one file.
 */
export function claimTempSlot(outDir: string, url: string): TempSlot {
  const dir = tempDir(outDir);
  fs.mkdirSync(dir, { recursive: true });
  const key = urlKey(url);
  const lock = join(dir, `${key}.lock`);
  if (tryLock(lock) || (isStaleLock(lock) && replaceStaleLock(lock))) {
    return { part: join(dir, `${key}.part`), sidecar: join(dir, `${key}.json`), lock };
  }
  return { part: join(dir, `${key}.${randomBytes(6).toString("hex")}.tmp`) };
}

/** Gives the slot up; the partial body and sidecar are removed unless `keepPartial`. */
export function releaseTempSlot(slot: TempSlot, keepPartial = false): void {
  if (!keepPartial) {
    rmQuiet(slot.part);
    if (slot.sidecar) rmQuiet(slot.sidecar);
  }
  if (slot.lock) rmQuiet(slot.lock);
}

export function readPartialInfo(slot: TempSlot): PartialInfo | null {
  if (!slot.sidecar) return null;
  try {
    const info = JSON.parse(fs.readFileSync(slot.sidecar, "utf8")) as PartialInfo;
    return typeof info?.url === "string" ? info : null;
  } catch {
    return null;
  }
}

export function writePartialInfo(slot: TempSlot, info: PartialInfo): void {
  if (!slot.sidecar) return;
  fs.writeFileSync(slot.sidecar, JSON.stringify(info));
}

export function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Removes temp files (partials, sidecars, locks) not touched for `maxAgeMs`: what crashed attempts
 * left behind and nobody came back to resume. Called once by the runner at start. Returns the count.
 */
export function sweepTempFiles(outDir: string, maxAgeMs: number, now: number): number {
  let removed = 0;
  let names: string[];
  try {
    names = fs.readdirSync(tempDir(outDir));
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(tempDir(outDir), name);
    try {
      const st = fs.statSync(path);
      if (st.isFile() && now - st.mtimeMs > maxAgeMs) {
        fs.rmSync(path);
        removed++;
      }
    } catch {
      // removed concurrently: nothing to do
    }
  }
  return removed;
}

function lockOwner(): string {
  return `${process.pid}\n${hostname()}\n`;
}

function tryLock(lock: string): boolean {
  try {
    fs.writeFileSync(lock, lockOwner(), { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/** A lock whose owner process on this host is gone (killed mid-download). */
function isStaleLock(lock: string): boolean {
  try {
    const [pid, host] = fs.readFileSync(lock, "utf8").split("\n");
    if (host !== hostname()) return false;
    const n = Number(pid);
    if (!Number.isInteger(n) || n <= 0) return true;
    if (n === process.pid) return false;
    try {
      process.kill(n, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ESRCH";
    }
  } catch {
    return false;
  }
}

function replaceStaleLock(lock: string): boolean {
  // Rename the stale lock away first: of two processes racing for it only one rename succeeds.
  const aside = `${lock}.${randomBytes(6).toString("hex")}.stale`;
  try {
    fs.renameSync(lock, aside);
  } catch {
    return false;
  }
  if (!isStaleLock(aside)) {
    // Another process replaced the stale lock between our check and the rename: give it back.
    try {
      fs.linkSync(aside, lock);
    } catch {
      // it already holds a fresh lock again
    }
    rmQuiet(aside);
    return false;
  }
  rmQuiet(aside);
  return tryLock(lock);
}

export function rmQuiet(path: string): void {
  try {
    fs.rmSync(path, { force: true });
  } catch {
    // best effort: the sweep removes what is left
  }
}
