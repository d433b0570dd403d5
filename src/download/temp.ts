// Temp files of downloads in flight, in `<out>/.tmp/` (same filesystem as the library, so publishing
// is a link, not a copy). A URL's resumable slot is named after a hash of its canonical URL and
// claimed by creating its sidecar exclusively; the sidecar names the owning process and, once the
// response headers are in, the validators and length that let an attempt killed mid-download be
// continued by the next one with a Range request. Metadata operations are few and asynchronous: on
// a busy filesystem a create or unlink can wait behind a journal commit, and must not stall the
// other downloads' streams while it does.
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

export const TEMP_DIR = ".tmp";

export interface TempSlot {
  /** The file the body is written to. */
  part: string;
  /** Sidecar JSON: owner, and what is known about the partial body (only for the resumable slot). */
  sidecar?: string;
  /** What the sidecar says about the partial body (validators written), if anything. */
  info: PartialInfo | null;
}

/** What the sidecar records about a partial body, enough to ask the server for the rest. */
export interface PartialInfo {
  url: string;
  etag?: string;
  lastModified?: string;
  /** Full length announced by the server, when it did. */
  total?: number;
}

interface Owner {
  pid: number;
  host: string;
}

type Sidecar = Owner & Partial<PartialInfo>;

export function tempDir(outDir: string): string {
  return join(outDir, TEMP_DIR);
}

export function urlKey(url: string): string {
  return createHash("sha256").update(url).digest("hex").slice(0, 32);
}

/**
 * Claims the URL's resumable slot, or, when another live download holds it (same URL in two jobs or
 * two runners), a private throwaway temp file so the two never write into one file. A slot whose
 * owner died (killed mid-download) is taken over with its partial body and validators.
 */
export async function claimTempSlot(outDir: string, url: string): Promise<TempSlot> {
  const dir = tempDir(outDir);
  const key = urlKey(url);
  const slot: TempSlot = { part: join(dir, `${key}.part`), sidecar: join(dir, `${key}.json`), info: null };
  const me = ownerRecord();
  if (await createExclusive(slot.sidecar as string, JSON.stringify(me), dir)) return slot;
  const stale = await readSidecar(slot.sidecar as string);
  if (stale && !isAlive(stale)) {
    const taken = await takeOver(slot.sidecar as string, me);
    if (taken) {
      slot.info = typeof taken.url === "string" ? partialInfoOf(taken) : null;
      return slot;
    }
  }
  return { part: join(dir, `${key}.${randomBytes(6).toString("hex")}.tmp`), info: null };
}

/**
 * Whether the URL's resumable slot has a sidecar, i.e. whether claiming it could find something to
 * continue. A stat of a cached name: answered at once, it never waits on a journal commit.
 */
export function slotInUse(outDir: string, url: string): boolean {
  return fs.existsSync(join(tempDir(outDir), `${urlKey(url)}.json`));
}

/** Gives the slot up: the partial body (unless it was published) and the sidecar are removed. */
export async function releaseTempSlot(slot: TempSlot, published = false): Promise<void> {
  await Promise.all([
    published ? undefined : unlinkQuiet(slot.part),
    slot.sidecar ? unlinkQuiet(slot.sidecar) : undefined,
  ]);
}

/** Records (or, with null, forgets) what the partial body in the slot is. */
export async function describePartial(slot: TempSlot, info: PartialInfo | null): Promise<void> {
  if (!slot.sidecar || (info === null && slot.info === null)) return;
  await fsp.writeFile(slot.sidecar, JSON.stringify({ ...ownerRecord(), ...info }));
  slot.info = info;
}

function partialInfoOf(s: Sidecar): PartialInfo {
  return { url: s.url as string, etag: s.etag, lastModified: s.lastModified, total: s.total };
}

export async function fileSize(path: string): Promise<number> {
  try {
    return (await fsp.stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Removes temp files (partials, sidecars) not touched for `maxAgeMs`: what crashed attempts left
 * behind and nobody came back to resume. Called once by the runner at start. Returns the count.
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
        fs.unlinkSync(path);
        removed++;
      }
    } catch {
      // removed concurrently: nothing to do
    }
  }
  return removed;
}

function ownerRecord(): Owner {
  return { pid: process.pid, host: hostname() };
}

/** Creates `path` only if it does not exist (the claim); makes the directory on first use. */
async function createExclusive(path: string, content: string, dir: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fsp.writeFile(path, content, { flag: "wx" });
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      if (code !== "ENOENT" || attempt > 0) throw e;
      await fsp.mkdir(dir, { recursive: true });
    }
  }
  return false;
}

async function readSidecar(path: string): Promise<Sidecar | null> {
  try {
    const s = JSON.parse(await fsp.readFile(path, "utf8")) as Sidecar;
    return typeof s === "object" && s !== null ? s : null;
  } catch {
    return null;
  }
}

/** Whether the process that owns a sidecar may still be writing (unknown hosts count as alive). */
function isAlive(owner: Partial<Owner>): boolean {
  if (owner.host !== hostname()) return owner.host !== undefined;
  const pid = owner.pid;
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Takes a dead owner's slot: renames its sidecar aside first, so of two processes racing for it only
 * one succeeds, then writes ours keeping the description of the partial body.
 */
async function takeOver(sidecar: string, me: Owner): Promise<Sidecar | null> {
  const aside = `${sidecar}.${randomBytes(6).toString("hex")}.stale`;
  try {
    await fsp.rename(sidecar, aside);
  } catch {
    return null;
  }
  const old = await readSidecar(aside);
  if (!old || isAlive(old)) {
    // Another process took the slot over between our look and the rename: give it back.
    await fsp.link(aside, sidecar).catch(() => {});
    await unlinkQuiet(aside);
    return null;
  }
  const next: Sidecar = { ...old, ...me };
  const created = await createExclusive(sidecar, JSON.stringify(next), join(sidecar, ".."));
  await unlinkQuiet(aside);
  return created ? next : null;
}

export async function unlinkQuiet(path: string): Promise<void> {
  try {
    await fsp.unlink(path);
  } catch {
    // already gone; the sweep removes anything left behind
  }
}

// File descriptors are opened and closed on the thread pool: on a busy filesystem a create can wait
// behind a journal commit, and the other downloads' streams must keep flowing meanwhile.
export function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.open(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))),
  );
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}
